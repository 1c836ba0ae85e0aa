/**
 * The timestamping shim: a few lines of plain JavaScript run as `node -e SHIM -- cmd args`.
 * It is the leader of the instance's process group, spawns the real command in the same
 * group with stdout/stderr pipes, and writes each line as `<ISO time> out|err <text>` to
 * its own stdout, which is the log file the daemon opened (O_APPEND) before spawning it.
 *
 * Why a shim and not the daemon: the daemon must never sit in a child's pipe, or the child
 * would get SIGPIPE (or block) when the daemon dies. The shim lives in the child's group,
 * so it survives the daemon and dies with the group on stop. It ignores SIGTERM/SIGINT/
 * SIGHUP/SIGQUIT (the group signal reaches the child directly), drains the pipes, then exits
 * with the child's own status (re-raising the child's signal), so the supervisor sees the
 * child's exit. Cost: one extra Node process (~40 MB RSS) per instance; `raw` mode avoids it.
 * Writes that fail (ENOSPC) drop the line and are counted; the count is logged once writes
 * succeed again, on a line of its own (after a newline that ends any half-written line). A partial line is flushed after 500 ms of silence or at 16 KiB.
 */
export const TIMESTAMP_SHIM_SOURCE = String.raw`
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const [command, ...args] = process.argv.slice(1);
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']) process.on(s, () => {});
let dropped = 0;
function write(tag, text) {
  const prefix = new Date().toISOString() + ' ';
  let out = prefix + tag + ' ' + text + '\n';
  // A newline first: a write cut short by the full disk may have left half a line behind.
  if (dropped > 0) out = '\n' + prefix + 'sys [sutazai-runtime] ' + dropped + ' log lines dropped: could not write the log file (disk full?)\n' + out;
  const bytes = Buffer.from(out);
  try {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(1, bytes, at);
    dropped = 0;
  } catch { dropped += 1; }
}
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const pending = { out: '', err: '' };
const timers = {};
let open = 2;
function flush(tag, all) {
  const parts = pending[tag].split('\n');
  pending[tag] = parts.pop();
  for (const line of parts) write(tag, line);
  if (all || pending[tag].length >= 16384) { if (pending[tag] !== '') write(tag, pending[tag]); pending[tag] = ''; }
}
function pump(stream, tag) {
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    pending[tag] += chunk;
    flush(tag, false);
    clearTimeout(timers[tag]);
    if (pending[tag] !== '') timers[tag] = setTimeout(() => flush(tag, true), 500);
  });
  stream.on('close', () => { clearTimeout(timers[tag]); flush(tag, true); open -= 1; });
}
pump(child.stdout, 'out');
pump(child.stderr, 'err');
child.on('error', (e) => { write('sys', '[sutazai-runtime] could not start ' + command + ': ' + e.message); process.exit(127); });
child.on('exit', (code, signal) => {
  // Grandchildren may keep the pipes open: give them a moment to drain, not forever.
  const deadline = Date.now() + 300;
  const finish = () => {
    if (open > 0 && Date.now() < deadline) { setTimeout(finish, 20); return; }
    flush('out', true); flush('err', true);
    if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); setTimeout(() => process.exit(128), 1000); }
    else process.exit(code === null ? 1 : code);
  };
  finish();
});
`;
