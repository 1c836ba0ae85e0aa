/**
 * Hostile input to both log collectors (the Node one, log-collector.ts, and the native one,
 * agents-runtime/native/log-collector.c, which the runtime bundle runs), driven the way the
 * daemon drives them: FIFOs made with mkfifo and held open read-write here, the control socket
 * spoken to directly. A program's output is bytes: binary, carriage returns, invalid UTF-8,
 * lines longer than 16 KiB, no newline at the end; each collector must write them the same way,
 * cut at 16 KiB, never parsed. The control socket gets garbage, an oversized line and instance
 * names that try to leave the directories: both ignore them and still answer.
 * The bytes of each stream are in the FIFO before the collector is told to open it (each under
 * the 64 KiB a FIFO holds), so each collector reads them in one read and the expected lines do
 * not depend on how reads happen to split.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultCollectorCommand,
  nativeCollectorCommand,
  type CollectorCommand,
} from '../../../agents-runtime/src/logs/log-collector-client';
import { collectorPaths, fifoPath } from '../../../agents-runtime/src/logs/log-collector';
import { MAX_LINE_BYTES } from '../../../agents-runtime/src/logs/stamped-lines';
import { buildNativeCollectorInto } from '../../support/native-collector';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-collector-hostile-');
const nativeBinary = buildNativeCollectorInto(tmp.path);
const started: ChildProcess[] = [];
const sockets: net.Socket[] = [];
const waitFor = makeWaitFor({ timeoutMs: 15_000, pollMs: 25 });

afterAll(() => {
  for (const socket of sockets) socket.destroy();
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  tmp.remove();
});

/** Calls `each` with every whole line the socket reads (text, without its newline). */
function onLines(socket: net.Socket, each: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    buffered += text;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) each(line);
  });
}

/** A control connection: writes lines, hands back the replies carrying an id, keeps the unasked pushes. */
function control(
  socketPath: string,
): Promise<{ send(line: string): void; reply(id: number): Promise<Record<string, unknown>>; pushes: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    sockets.push(socket);
    const replies = new Map<number, Record<string, unknown>>();
    const pushes: Record<string, unknown>[] = [];
    onLines(socket, (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (typeof message.id === 'number') replies.set(message.id, message);
      else pushes.push(message);
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        send: (line) => socket.write(line),
        reply: (id) => waitFor(`the reply to request ${id}`, () => replies.get(id)),
        pushes,
      }),
    );
  });
}

function startCollector(command: CollectorCommand): ChildProcess {
  const child = spawn(command.file, command.args, { cwd: command.cwd, stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  started.push(child);
  return child;
}

const listening = (socketPath: string): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });

const binary = Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x0d, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xc3, 0x28, 0x7f, 0x09, 0x22, 0x5c]);
const fill = (byte: string, n: number): Buffer => Buffer.alloc(n, byte);

/** What the program writes on each stream: under 64 KiB each (what a FIFO holds). */
const OUT = Buffer.concat([
  Buffer.from('\n'), // an empty line
  fill('a', 1),
  Buffer.from('\n'),
  fill('b', MAX_LINE_BYTES - 1),
  Buffer.from('\n'),
  fill('c', MAX_LINE_BYTES), // exactly the limit with its newline: whole
  Buffer.from('\n'),
  fill('d', MAX_LINE_BYTES + 1), // one byte over: cut
  Buffer.from('\n'),
  binary,
  Buffer.from('\r\n'),
  Buffer.from('no newline at the end'),
]);
const ERR = Buffer.concat([fill('e', 40_000), Buffer.from('\n'), fill('f', MAX_LINE_BYTES + 10)]);

/** The lines each collector must write, in file order: every complete line, then the partial ones (flushed by the drain). */
const EXPECTED: Array<[string, Buffer]> = [
  ['out', Buffer.alloc(0)],
  ['out', fill('a', 1)],
  ['out', fill('b', MAX_LINE_BYTES - 1)],
  ['out', fill('c', MAX_LINE_BYTES)],
  ['out', fill('d', MAX_LINE_BYTES)],
  ['out', fill('d', 1)],
  ['out', Buffer.concat([binary, Buffer.from('\r')])],
  ['err', fill('e', MAX_LINE_BYTES)],
  ['err', fill('e', MAX_LINE_BYTES)],
  ['err', fill('e', 40_000 - 2 * MAX_LINE_BYTES)],
  ['err', fill('f', MAX_LINE_BYTES)], // cut while no newline has come: written at once
  ['out', Buffer.from('no newline at the end')],
  ['err', fill('f', 10)],
];

const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (out|err) /;

/** The log's lines as [tag, bytes]; every line must carry a stamp and a tag. */
function stampedLines(file: string): Array<[string, Buffer]> {
  const data = fs.readFileSync(file);
  const lines: Array<[string, Buffer]> = [];
  for (let at = 0; at < data.length;) {
    const nl = data.indexOf(0x0a, at);
    expect(nl).toBeGreaterThanOrEqual(0); // every line ends with a newline
    const line = data.subarray(at, nl);
    const head = STAMPED.exec(line.subarray(0, 40).toString('latin1'));
    expect(head).not.toBeNull();
    lines.push([head![1]!, Buffer.from(line.subarray(head![0].length))]);
    at = nl + 1;
  }
  return lines;
}

describe.each(['node', 'native'] as const)('the %s log collector, on hostile input', (kind) => {
  it('writes binary, long and unterminated output byte for byte, cut at 16 KiB, stamped and tagged; garbage and escaping names on its socket are ignored', async () => {
    const dir = path.join(tmp.path, kind);
    const fifoDir = path.join(dir, 'fifos');
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(fifoDir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
    const limits = { maxFileBytes: 10 * 1024 * 1024, keepFiles: 2, maxTotalBytes: 64 * 1024 * 1024 };
    const command =
      kind === 'native' ? nativeCollectorCommand(nativeBinary, fifoDir, logDir, limits) : defaultCollectorCommand(fifoDir, logDir, limits);
    const { socket } = collectorPaths(fifoDir);

    // The daemon's part: the FIFOs made and held read-write, the program's bytes waiting in them.
    const instance = 'hostile';
    const fifos = (['out', 'err'] as const).map((tag) => fifoPath(fifoDir, instance, tag));
    expect(spawnSync('mkfifo', ['-m', '0600', ...fifos]).status).toBe(0);
    const held: number[] = fifos.map((file) => fs.openSync(file, fs.constants.O_RDWR));
    try {
      fs.writeSync(held[0]!, OUT);
      fs.writeSync(held[1]!, ERR);

      const collector = startCollector(command);
      await waitFor('the collector to listen', () => listening(socket));
      const daemon = await control(socket);
      daemon.send('not json at all\n');
      daemon.send(`${'x'.repeat(200_000)}\n`); // an oversized line
      daemon.send('{"op":"open","instance":"../escaped"}\n');
      daemon.send('{"op":"open","instance":"a\\u002fb"}\n');
      daemon.send('{"op":"open","instance":".hidden"}\n');
      // FIFOs made after the start (what is there at the start is read at once) for a name sent inside a list.
      const listed = (['out', 'err'] as const).map((tag) => fifoPath(fifoDir, 'listed', tag));
      expect(spawnSync('mkfifo', ['-m', '0600', ...listed]).status).toBe(0);
      held.push(...listed.map((file) => fs.openSync(file, fs.constants.O_RDWR)));
      fs.writeSync(held[2]!, 'a line\n');
      daemon.send('{"op":"open","instance":["listed"]}\n');
      daemon.send('{"op":"hello","limits":{"maxFileBytes":-1,"keepFiles":"x","maxTotalBytes":1e400}}\n');
      daemon.send('{"op":"drain","instance":"listed","id":1}\n');
      expect(await daemon.reply(1)).toEqual({ id: 1 });
      // None of those opened anything (a list holding the name is not the name).
      expect(fs.existsSync(path.join(logDir, 'listed.log'))).toBe(false);
      // A bad hello keeps the limits it started with; a good one comes as the daemon sends it.
      daemon.send(`${JSON.stringify({ op: 'hello', limits })}\n`);
      daemon.send(`${JSON.stringify({ op: 'open', instance })}\n`);
      daemon.send(`${JSON.stringify({ op: 'drain', instance, id: 2 })}\n`);
      expect(await daemon.reply(2)).toEqual({ id: 2 });

      expect(stampedLines(path.join(logDir, `${instance}.log`))).toEqual(EXPECTED);
      // Nothing made outside the directories, nothing for the names that were refused.
      expect(fs.readdirSync(logDir)).toEqual([`${instance}.log`]);
      for (const fd of held.splice(2)) fs.closeSync(fd);
      expect(fs.readdirSync(dir).sort()).toEqual(['fifos', 'logs']);
      expect(fs.existsSync(path.join(tmp.path, 'escaped.log'))).toBe(false);

      daemon.send(`${JSON.stringify({ op: 'stats', id: 3 })}\n`);
      const stats = await daemon.reply(3);
      expect(stats).toMatchObject({ id: 3, protocol: 3, implementation: kind, bytes: OUT.length + ERR.length, lines: EXPECTED.length });
      expect(daemon.pushes[0]).toEqual({ op: 'dropped', all: true, lines: {} });

      // The program still holds its FIFOs; once it and the daemon let go, the collector finishes and exits.
      const exited = new Promise((resolve) => collector.once('exit', (code, signal) => resolve({ code, signal })));
      for (const fd of held.splice(0)) fs.closeSync(fd);
      sockets.at(-1)!.destroy();
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(fs.existsSync(socket)).toBe(false);
    } finally {
      for (const fd of held) fs.closeSync(fd);
    }
  });

  it('reads its control lines as JSON.parse does: long keys at any depth are skipped, numbers are JSON numbers, \\u escapes decoded, any id echoed whole', async () => {
    const dir = path.join(tmp.path, `${kind}-grammar`);
    const fifoDir = path.join(dir, 'fifos');
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(fifoDir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
    const command = kind === 'native' ? nativeCollectorCommand(nativeBinary, fifoDir, logDir) : defaultCollectorCommand(fifoDir, logDir);
    const { socket: socketPath } = collectorPaths(fifoDir);
    const collector = startCollector(command);
    await waitFor('the collector to listen', () => listening(socketPath));
    const socket = net.connect(socketPath);
    sockets.push(socket);
    // Raw lines: a reply that is not JSON must fail the test, not the handler.
    const lines: string[] = [];
    onLines(socket, (line) => lines.push(line));
    const longId = 'x'.repeat(300);
    const requests = [
      '{"op":"hello"}',
      '{"op":"drain","instance":"none","a_field_whose_name_is_longer_than_32_bytes":true,"id":1}',
      '{"op":"drain","instance":"none","meta":{"another_field_whose_name_is_longer_than_32":[1,{"x":2}]},"id":2}',
      // Not JSON (JSON.parse refuses each): no answer.
      '{"op":"drain","instance":"none","id":+1}',
      '{"op":"drain","instance":"none","id":.5}',
      '{"op":"drain","instance":"none","id":01}',
      '{"op":"drain","instance":"none","id":1.}',
      '{"op":"drain","instance":"none","id":1e}',
      '{"op":"drain","instance":"none","id":-}',
      '{"op":"drain","instance":"none","id":-0.5e+3}',
      '{"op":"dr\\u0061in","instance":"none","id":3}',
      `{"op":"drain","instance":"none","id":"${longId}"}`,
      `{"op":"stats","id":["${longId}",4]}`,
      '{"op":"drain","instance":"none","id":"end"}',
    ];
    socket.write(requests.map((line) => `${line}\n`).join(''));
    await waitFor('the last answer', () => lines.some((line) => line.includes('"end"')));
    const replies = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((reply) => reply.op === undefined);
    expect(replies.map((reply) => reply.id)).toEqual([1, 2, -500, 3, longId, [longId, 4], 'end']);
    expect(replies[5]).toMatchObject({ protocol: 3, implementation: kind });
    socket.destroy();
    collector.kill('SIGTERM');
  });
});

describe('the native log collector out of descriptors', () => {
  it('says so: a FIFO it cannot open (its writer would block unseen) and a connection it cannot accept (paused, not spun on)', async () => {
    const dir = path.join(tmp.path, 'emfile');
    const fifoDir = path.join(dir, 'fifos');
    const logDir = path.join(dir, 'logs');
    fs.mkdirSync(fifoDir, { recursive: true });
    fs.mkdirSync(logDir, { recursive: true });
    const held: number[] = [];
    const names = Array.from({ length: 8 }, (_, i) => `busy-${i}`);
    for (const name of names) {
      const fifos = (['out', 'err'] as const).map((tag) => fifoPath(fifoDir, name, tag));
      expect(spawnSync('mkfifo', ['-m', '0600', ...fifos]).status).toBe(0);
      held.push(...fifos.map((file) => fs.openSync(file, fs.constants.O_RDWR)));
    }
    try {
      const command = nativeCollectorCommand(nativeBinary, fifoDir, logDir);
      // 14 descriptors: its own (epoll, signals, socket) and the FIFOs of a few instances, not 8.
      const child = spawn('sh', ['-c', 'ulimit -n 14; exec "$0" "$@"', command.file, ...command.args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      started.push(child);
      let complaints = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => (complaints += text));
      const { socket } = collectorPaths(fifoDir);
      await waitFor('the collector to listen', () => listening(socket));
      // What waits in the directory is opened at its start: more FIFOs than it has descriptors for.
      await waitFor('the FIFOs it could not open, said', () => /cannot open .*busy-\d\.out: .* \(EMFILE\)/.test(complaints));
      const extra = net.connect(socket);
      sockets.push(extra);
      extra.on('error', () => undefined);
      await waitFor('the connection it could not accept, said', () => /cannot accept a connection: .* \(EMFILE\)/.test(complaints));
    } finally {
      for (const fd of held) fs.closeSync(fd);
    }
  });
});
