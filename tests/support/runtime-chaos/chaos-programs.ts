import fs from 'node:fs';
import path from 'node:path';
import type { ChaosModel, ModelProcess } from './chaos-model';

/** How hard the flood process writes: bytes a second while on, in bursts of onMs every onMs + offMs. */
export interface FloodShape {
  bytesPerSecond: number;
  onMs: number;
  offMs: number;
}

export interface ChaosPrograms {
  steady: string;
  hb: string;
  flood: string;
  extra: string;
}

const STEADY = `# A loop with a child in its group: kill -9 of the leader leaves the sleep for the runtime to sweep.
i=0
while :; do
  i=$((i+1))
  echo "steady $SUTAZAI_INSTANCE $i"
  sleep 0.3
done
`;

const EXTRA = `while :; do echo "extra $SUTAZAI_INSTANCE"; sleep 1; done
`;

// Replica N listens on HB_PORT + N - 1, the port its health check asks (replicaHealth).
const HB = `const http = require('node:http');
const port = Number(process.env.HB_PORT) + Number(process.env.SUTAZAI_REPLICA || '1') - 1;
http.createServer((_req, res) => res.end('ok\\n')).listen(port, '127.0.0.1', () => console.log('hb listening on ' + port));
setInterval(() => console.log('hb alive'), 1000);
`;

// 100-byte lines, one write per 20 ms tick while on; a write waits for the previous one to be
// taken, so a slow reader slows the flood down instead of growing its memory.
const FLOOD = `const rate = Number(process.env.FLOOD_BYTES_PER_S);
const on = Number(process.env.FLOOD_ON_MS);
const off = Number(process.env.FLOOD_OFF_MS);
const TICK_MS = 20;
const line = 'flood ' + 'x'.repeat(93) + '\\n';
const block = Buffer.from(line.repeat(Math.max(1, Math.round((rate * TICK_MS) / 1000 / line.length))));
const start = Date.now();
let busy = false;
setInterval(() => {
  if (busy || (Date.now() - start) % (on + off) >= on) return;
  busy = true;
  process.stdout.write(block, () => (busy = false));
}, TICK_MS);
`;

/** Writes the chaos processes' programs into `dir`. */
export function writeChaosPrograms(dir: string): ChaosPrograms {
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o644 });
    return file;
  };
  return { steady: write('steady.sh', STEADY), hb: write('hb.js', HB), flood: write('flood.js', FLOOD), extra: write('extra.sh', EXTRA) };
}

export interface ManifestContext {
  programs: ChaosPrograms;
  /** Node for hb and flood. */
  node: string;
  /** hb replica 1's port; replica N uses hbPort + N - 1. */
  hbPort: number;
  flood: FloodShape;
}

// Restarts at once, and never a crash loop: each kill must cost exactly one restart, however many come.
const RESTART_AT_ONCE = [
  '    backoff: { initial_ms: 0, factor: 1, max_ms: 1000, jitter: 0 }',
  '    crash_loop: { after_restarts: 1000000 }',
  '    stop: { grace_ms: 1000 }',
];

/** The manifest the model describes (JSON strings are YAML strings). */
export function chaosManifest(model: ChaosModel, ctx: ManifestContext): string {
  const q = JSON.stringify;
  const lines = ['version: 1', 'processes:'];
  const entry = (p: ModelProcess, command: string, args: string[], env: Record<string, string>, more: string[] = []): void => {
    lines.push(
      `  - name: ${p.name}`,
      `    command: ${q(command)}`,
      `    args: [${args.map((a) => q(a)).join(', ')}]`,
      `    env: { ${Object.entries({ ...env, CHAOS_ROUND: String(p.round) })
        .map(([k, v]) => `${k}: ${q(v)}`)
        .join(', ')} }`,
      `    replicas: ${p.replicas}`,
      ...RESTART_AT_ONCE,
      ...more,
    );
  };
  for (const p of model.list()) {
    switch (p.name) {
      case 'steady':
        entry(p, '/bin/sh', [ctx.programs.steady], {});
        break;
      case 'extra':
        entry(p, '/bin/sh', [ctx.programs.extra], {});
        break;
      case 'hb':
        entry(p, ctx.node, [ctx.programs.hb], { HB_PORT: String(ctx.hbPort) }, [
          // A hung server accepts connections (the kernel does) but never answers: only an http check sees it.
          `    health: { type: http, port: ${ctx.hbPort}, path: /, interval_ms: 1000, timeout_ms: 2000, unhealthy_threshold: 3, start_period_ms: 5000 }`,
        ]);
        break;
      case 'flood':
        entry(p, ctx.node, [ctx.programs.flood], {
          FLOOD_BYTES_PER_S: String(ctx.flood.bytesPerSecond),
          FLOOD_ON_MS: String(ctx.flood.onMs),
          FLOOD_OFF_MS: String(ctx.flood.offMs),
        });
        break;
    }
  }
  return `${lines.join('\n')}\n`;
}
