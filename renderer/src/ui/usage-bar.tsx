import { formatPercent } from '../format/number';

/** How full something is: a bar that turns amber at 75 % and red at 90 %, and the figure. */
export function UsageBar({ percent }: { percent: number }) {
  const level = percent >= 90 ? 'critical' : percent >= 75 ? 'warning' : 'normal';
  return (
    <div className="usage">
      <div
        className={`usage-bar usage-${level}`}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(percent)}
        aria-label="Used"
      >
        <div className="usage-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="usage-text figure">{formatPercent(percent, 0)}</span>
    </div>
  );
}
