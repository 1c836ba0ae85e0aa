import type { MetricPoint } from '../../../electron/contract';

const WIDTH = 64;
const HEIGHT = 22;

/**
 * A small line of a series' means over a fixed window, 0 at the bottom and `max` at the
 * top; a missing or NaN point breaks the line (a gap is drawn as a gap, never bridged).
 */
export function Sparkline({
  points,
  fromMs,
  toMs,
  max,
  label,
  testId,
}: {
  points: readonly MetricPoint[];
  fromMs: number;
  toMs: number;
  max: number;
  label: string;
  testId?: string;
}) {
  const span = Math.max(1, toMs - fromMs);
  const x = (t: number) => ((t - fromMs) / span) * WIDTH;
  const y = (v: number) => HEIGHT - 1 - (Math.min(max, Math.max(0, v)) / max) * (HEIGHT - 2);
  // Consecutive points further apart than twice the usual step are a gap.
  const steps = points.slice(1).map((p, i) => p[0] - points[i]![0]);
  const step = steps.length > 0 ? [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)]! : span;
  const runs: string[] = [];
  let run: string[] = [];
  points.forEach((p, i) => {
    const broken = !Number.isFinite(p[1]) || (i > 0 && p[0] - points[i - 1]![0] > 2 * step);
    if (broken && run.length > 0) {
      runs.push(run.join(' '));
      run = [];
    }
    if (Number.isFinite(p[1])) run.push(`${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`);
  });
  if (run.length > 0) runs.push(run.join(' '));
  return (
    <svg
      className="sparkline"
      width={WIDTH}
      height={HEIGHT}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-points={points.filter((p) => Number.isFinite(p[1])).length}
    >
      {/* No samples, no line: an empty axis would read as zero. */}
      {runs.length > 0 ? <line className="sparkline-base" x1={0} x2={WIDTH} y1={HEIGHT - 0.5} y2={HEIGHT - 0.5} /> : null}
      {runs.map((r, i) =>
        r.includes(' ') ? (
          <polyline key={i} className="sparkline-line" points={r} />
        ) : (
          <circle key={i} className="sparkline-dot" cx={r.split(',')[0]} cy={r.split(',')[1]} r={1.2} />
        ),
      )}
    </svg>
  );
}
