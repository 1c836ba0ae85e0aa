/**
 * The metrics history: the last `capacity` samples (15 minutes at 1 s; 75 at the 5 s of a
 * time nobody watched: metrics-service.ts), for a client that reconnects and asks for what
 * it missed (streamMetrics' backfill).
 *
 * Why not objects (issue 13, the runtime's footprint): a sample kept as objects, even with its
 * per-instance numbers packed in one typed array, cost 1.6 KB with 10 instances and 6.3 KB
 * with 100 (the host object with a heap number per field, the typed arrays, their backing
 * store): 1.4 and 5.5 MB once the 15 minutes are full, more than the whole daemon's own heap,
 * and growing for the first quarter of an hour of every daemon's life.
 *
 * Here every number of a sample is a slot of one row of float64s, and a row is stored as the
 * slots that changed since the row before: a bit mask, then the changed values. An instance's
 * uptime counts as unchanged when it grew by exactly the time between the two samples. An
 * idle instance (no CPU, the same RSS, pid and counts) then costs one bit a sample; 900
 * samples of 100 idle instances take about 0.25 MB instead of 5.5. Every KEYFRAME_EVERY rows,
 * and whenever the shape changes (instances, mounts, GPUs, cores), a row is stored whole, so
 * reading starts at most that many rows back and whole groups are dropped from the oldest end.
 *
 * What comes back is what went in, field for field: nulls, an absent logDroppedLines, -0 and
 * numbers past 32 bits included (slots compare as Object.is does).
 *
 * A push runs every second in an interpreted daemon (--lite-mode), so it calls no function
 * per slot: an instance whose nine numbers are what the row before makes expected is passed
 * over by one comparison of them all, and rows are written through typed arrays (a row's
 * mask is padded to whole float64s, so its values are aligned).
 */
import type { HostMetrics, InstanceMetrics, MetricSample } from './metric-sample';

export const DEFAULT_CAPACITY = 900; // 15 minutes at 1 s

/** A row stored whole at least this often: the most rows a read walks before the first it returns. */
const KEYFRAME_EVERY = 128;
/** Rows are written into chunks of this size (a bigger row gets a chunk of its own). */
const CHUNK_BYTES = 16 * 1024;

/** The host's own numbers, in HostMetrics' order. */
const HOST_SCALARS = [
  'cpuPercent',
  'loadOneMinute',
  'loadFiveMinutes',
  'loadFifteenMinutes',
  'memoryUsedBytes',
  'memoryTotalBytes',
  'swapUsedBytes',
  'swapTotalBytes',
  'diskReadBytesPerSec',
  'diskWriteBytesPerSec',
  'netRxBytesPerSec',
  'netTxBytesPerSec',
] as const satisfies readonly (keyof HostMetrics)[];
const FS_SLOTS = 2; // usedBytes, totalBytes
const GPU_SLOTS = 4; // utilizationPercent, memoryUsedBytes, memoryTotalBytes, temperatureC (NaN: null)
/** An instance's slots, from its first: NaN stands for null (pid, uptime, open files) and for an absent logDroppedLines. */
const CPU = 0;
const RSS = 1;
const UPTIME = 2;
const DROPPED = 3;
const PID = 4;
const THREADS = 5;
const OPEN_FILES = 6;
const RESTARTS = 7;
const OPERATOR_RESTARTS = 8;
const INSTANCE_SLOTS = 9;

/** What a row's slots mean: everything of a sample that is not a number. Rows of one shape share it. */
interface Shape {
  cores: number;
  mounts: readonly string[];
  gpus: readonly (readonly [index: number, name: string])[];
  instances: readonly (readonly [instance: string, process: string])[];
  instancesAt: number;
  slots: number;
}

interface Chunk {
  bytes: Uint8Array;
  floats: Float64Array;
  /** Bytes written, a multiple of 8. */
  used: number;
}

/** Bytes of a row's mask: one bit a slot, padded to whole float64s. */
const maskBytesOf = (slots: number): number => Math.ceil(slots / 64) * 8;

/** a and b differ as Object.is tells them apart (NaN equals NaN, 0 differs from -0). */
const differs = (a: number, b: number): boolean => (a !== b ? a === a || b === b : a === 0 && 1 / a !== 1 / b);

function shapeOf(sample: MetricSample): Shape {
  const { host, instances } = sample;
  const fsAt = HOST_SCALARS.length + host.perCorePercent.length;
  const gpusAt = fsAt + host.filesystems.length * FS_SLOTS;
  const instancesAt = gpusAt + host.gpus.length * GPU_SLOTS;
  return {
    cores: host.perCorePercent.length,
    mounts: host.filesystems.map((f) => f.mount),
    gpus: host.gpus.map((g) => [g.index, g.name] as const),
    instances: instances.map((i) => [i.instance, i.process] as const),
    instancesAt,
    slots: instancesAt + instances.length * INSTANCE_SLOTS,
  };
}

function fitsShape(shape: Shape, sample: MetricSample): boolean {
  const { host, instances } = sample;
  if (
    shape.cores !== host.perCorePercent.length ||
    shape.mounts.length !== host.filesystems.length ||
    shape.gpus.length !== host.gpus.length ||
    shape.instances.length !== instances.length
  )
    return false;
  for (let i = 0; i < shape.mounts.length; i++) if (shape.mounts[i] !== host.filesystems[i]!.mount) return false;
  for (let i = 0; i < shape.gpus.length; i++) {
    const gpu = host.gpus[i]!;
    if (shape.gpus[i]![0] !== gpu.index || shape.gpus[i]![1] !== gpu.name) return false;
  }
  // Indexes, not destructuring: the interpreter would make an iterator per instance.
  for (let i = 0; i < shape.instances.length; i++) {
    const names = shape.instances[i]!;
    const m = instances[i]!;
    if (names[0] !== m.instance || names[1] !== m.process) return false;
  }
  return true;
}

const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

/** The sample a row stands for (new objects, never shared with another sample). */
function sampleOf(atMs: number, shape: Shape, row: Float64Array): MetricSample {
  const host = { cpuPercent: row[0]! } as HostMetrics;
  host.perCorePercent = Array.from(row.subarray(HOST_SCALARS.length, HOST_SCALARS.length + shape.cores));
  for (let i = 1; i < HOST_SCALARS.length; i++) host[HOST_SCALARS[i]!] = row[i]!;
  let at = HOST_SCALARS.length + shape.cores;
  host.filesystems = shape.mounts.map((mount) => {
    const fs = { mount, usedBytes: row[at]!, totalBytes: row[at + 1]! };
    at += FS_SLOTS;
    return fs;
  });
  host.gpus = shape.gpus.map(([index, name]) => {
    const gpu = {
      index,
      name,
      utilizationPercent: orNull(row[at]!),
      memoryUsedBytes: orNull(row[at + 1]!),
      memoryTotalBytes: orNull(row[at + 2]!),
      temperatureC: orNull(row[at + 3]!),
    };
    at += GPU_SLOTS;
    return gpu;
  });
  const instances = shape.instances.map(([instance, process]): InstanceMetrics => {
    const dropped = row[at + DROPPED]!;
    const m: InstanceMetrics = {
      instance,
      process,
      pid: orNull(row[at + PID]!),
      cpuPercent: row[at + CPU]!,
      rssBytes: row[at + RSS]!,
      threads: row[at + THREADS]!,
      openFiles: orNull(row[at + OPEN_FILES]!),
      restarts: row[at + RESTARTS]!,
      operatorRestarts: row[at + OPERATOR_RESTARTS]!,
      uptimeMs: orNull(row[at + UPTIME]!),
    };
    if (!Number.isNaN(dropped)) m.logDroppedLines = dropped;
    at += INSTANCE_SLOTS;
    return m;
  });
  return { atMs, host, instances };
}

export class SampleHistory {
  readonly capacity: number;
  /** Room for `capacity` rows and the rest of the oldest group, which goes whole. */
  private readonly room: number;
  private readonly times: Float64Array;
  private readonly offsets: Int32Array;
  private readonly keyframes: Uint8Array;
  private readonly chunkOf: (Chunk | undefined)[];
  private readonly shapeOf: (Shape | undefined)[];
  /** Chunks holding kept rows, oldest first (for bytesHeld). */
  private chunks: Chunk[] = [];
  private head = 0;
  private count = 0;
  private sinceKeyframe = 0;
  /** The newest row's numbers (updated in place by each push) and shape. */
  private row = new Float64Array(0);
  private rowShape: Shape | null = null;
  /** A push's scratch: its mask, and the values that changed, in slot order. */
  private mask = new Uint8Array(0);
  private changed = new Float64Array(0);
  private changes = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`metrics history capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.room = capacity + KEYFRAME_EVERY;
    this.times = new Float64Array(this.room);
    this.offsets = new Int32Array(this.room);
    this.keyframes = new Uint8Array(this.room);
    this.chunkOf = new Array<Chunk | undefined>(this.room);
    this.shapeOf = new Array<Shape | undefined>(this.room);
  }

  /** Samples a read can return (at most `capacity`). */
  get size(): number {
    return Math.min(this.count, this.capacity);
  }

  /** Bytes the kept rows take (their chunks): what the history costs (its tests hold it to a bound). */
  get bytesHeld(): number {
    let bytes = 0;
    for (const chunk of this.chunks) bytes += chunk.bytes.byteLength;
    return bytes;
  }

  newestAtMs(): number | null {
    return this.count === 0 ? null : this.times[this.slot(this.count - 1)]!;
  }

  /** false (and nothing stored) when the sample is older than the newest one. */
  push(sample: MetricSample): boolean {
    const newestAt = this.newestAtMs();
    if (newestAt !== null && sample.atMs < newestAt) return false;
    const previousShape = this.rowShape;
    const shape = previousShape !== null && fitsShape(previousShape, sample) ? previousShape : shapeOf(sample);
    const whole = shape !== previousShape || this.sinceKeyframe >= KEYFRAME_EVERY;
    if (this.row.length !== shape.slots) {
      this.row = new Float64Array(shape.slots);
      this.mask = new Uint8Array(maskBytesOf(shape.slots));
      this.changed = new Float64Array(shape.slots);
    }
    // The notes leave `row` holding the sample whatever it held before (another shape's numbers,
    // zeros): a whole row is written from it, a delta from the mask and changes they made.
    this.mask.fill(0);
    this.changes = 0;
    this.noteHost(sample.host, shape);
    this.noteInstances(sample.instances, shape.instancesAt, newestAt === null ? 0 : sample.atMs - newestAt);
    this.rowShape = shape;
    if (whole) this.append(sample.atMs, shape, shape.slots * 8, true);
    else this.append(sample.atMs, shape, this.mask.length + this.changes * 8, false);
    this.sinceKeyframe = whole ? 1 : this.sinceKeyframe + 1;
    this.dropOldGroups();
    return true;
  }

  /** Every kept sample with `atMs >= sinceMs`, oldest first (new objects). */
  since(sinceMs: number): MetricSample[] {
    let lo = this.count - this.size;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[this.slot(mid)]! < sinceMs) lo = mid + 1;
      else hi = mid;
    }
    const out: MetricSample[] = [];
    if (lo === this.count) return out;
    // Read from the whole row at or before the first one asked for.
    let from = lo;
    while (this.keyframes[this.slot(from)] === 0) from--;
    let row: Float64Array = new Float64Array(0);
    let previousAt = 0;
    for (let i = from; i < this.count; i++) {
      const slot = this.slot(i);
      const shape = this.shapeOf[slot]!;
      const atMs = this.times[slot]!;
      row = this.read(slot, shape, row, atMs - previousAt);
      previousAt = atMs;
      if (i >= lo) out.push(sampleOf(atMs, shape, row));
    }
    return out;
  }

  private slot(i: number): number {
    return (this.head + i) % this.room;
  }

  /** Slot `at` of the row is now `value`: marked in the mask and kept among the changes, where it differs. */
  private note(at: number, value: number): void {
    if (differs(value, this.row[at]!)) this.mark(at, value);
  }

  private mark(at: number, value: number): void {
    this.row[at] = value;
    this.mask[at >> 3]! |= 1 << (at & 7);
    this.changed[this.changes++] = value;
  }

  private noteHost(host: HostMetrics, shape: Shape): void {
    let at = 0;
    for (let i = 0; i < HOST_SCALARS.length; i++) this.note(at++, host[HOST_SCALARS[i]!]);
    for (let i = 0; i < shape.cores; i++) this.note(at++, host.perCorePercent[i]!);
    for (let i = 0; i < shape.mounts.length; i++) {
      const fs = host.filesystems[i]!;
      this.note(at++, fs.usedBytes);
      this.note(at++, fs.totalBytes);
    }
    for (let i = 0; i < shape.gpus.length; i++) {
      const gpu = host.gpus[i]!;
      this.note(at++, gpu.utilizationPercent ?? NaN);
      this.note(at++, gpu.memoryUsedBytes ?? NaN);
      this.note(at++, gpu.memoryTotalBytes ?? NaN);
      this.note(at++, gpu.temperatureC ?? NaN);
    }
  }

  /**
   * The instances' slots, from `at`. An instance whose numbers are all as expected (its
   * uptime grown by `elapsedMs`, or still none) is passed over by comparisons without a call;
   * a busy one (CPU, RSS) marks those two; only one that changed otherwise goes slot by slot.
   * Marking a slot that did not change is never wrong, only 8 bytes more.
   */
  private noteInstances(instances: readonly InstanceMetrics[], at: number, elapsedMs: number): void {
    const row = this.row;
    for (let i = 0; i < instances.length; i++, at += INSTANCE_SLOTS) {
      const m = instances[i]!;
      const cpu = m.cpuPercent;
      const rss = m.rssBytes;
      const uptime = m.uptimeMs;
      const pid = m.pid;
      const openFiles = m.openFiles;
      const dropped = m.logDroppedLines;
      const was = row[at + UPTIME]!;
      const uptimeAsExpected = uptime === null ? was !== was : uptime === was + elapsedMs;
      const wasDropped = row[at + DROPPED]!;
      const wasPid = row[at + PID]!;
      const wasOpenFiles = row[at + OPEN_FILES]!;
      const restAsBefore =
        uptimeAsExpected &&
        (dropped === undefined ? wasDropped !== wasDropped : dropped === wasDropped) &&
        (pid === null ? wasPid !== wasPid : pid === wasPid) &&
        m.threads === row[at + THREADS] &&
        (openFiles === null ? wasOpenFiles !== wasOpenFiles : openFiles === wasOpenFiles) &&
        m.restarts === row[at + RESTARTS] &&
        m.operatorRestarts === row[at + OPERATOR_RESTARTS];
      // Slot order: the values of the changes are read back in it.
      if (cpu !== row[at + CPU] || 1 / cpu !== 1 / row[at + CPU]!) this.mark(at + CPU, cpu);
      if (rss !== row[at + RSS]) this.mark(at + RSS, rss);
      // An uptime as expected is not a change (the row follows it for the next comparison);
      // any other is, the same uptime as before too: a reader expects it grown.
      if (uptimeAsExpected) row[at + UPTIME] = uptime ?? NaN;
      if (restAsBefore) continue;
      if (!uptimeAsExpected) this.mark(at + UPTIME, uptime ?? NaN);
      this.note(at + DROPPED, dropped ?? NaN);
      this.note(at + PID, pid ?? NaN);
      this.note(at + THREADS, m.threads);
      this.note(at + OPEN_FILES, openFiles ?? NaN);
      this.note(at + RESTARTS, m.restarts);
      this.note(at + OPERATOR_RESTARTS, m.operatorRestarts);
    }
  }

  /** Writes the row: whole (`row`), or its mask and changed values; `bytes` is its size. */
  private append(atMs: number, shape: Shape, bytes: number, whole: boolean): void {
    let chunk = this.chunks.at(-1);
    if (chunk === undefined || chunk.used + bytes > chunk.bytes.byteLength) {
      // Room for four whole rows at least: a chunk is left when the next row does not fit in it.
      const buffer = new ArrayBuffer(Math.max(CHUNK_BYTES, 4 * shape.slots * 8));
      chunk = { bytes: new Uint8Array(buffer), floats: new Float64Array(buffer), used: 0 };
      this.chunks.push(chunk);
    }
    const start = chunk.used;
    if (whole) chunk.floats.set(this.row, start / 8);
    else {
      chunk.bytes.set(this.mask, start);
      const values = (start + this.mask.length) / 8;
      for (let i = 0; i < this.changes; i++) chunk.floats[values + i] = this.changed[i]!;
    }
    chunk.used += bytes;
    const slot = this.slot(this.count);
    this.times[slot] = atMs;
    this.offsets[slot] = start;
    this.keyframes[slot] = whole ? 1 : 0;
    this.chunkOf[slot] = chunk;
    this.shapeOf[slot] = shape;
    this.count++;
  }

  /** The row at `slot`: into `previous` (the row before it, reused), or for a whole row into a new array where the size differs. */
  private read(slot: number, shape: Shape, previous: Float64Array, elapsedMs: number): Float64Array {
    const { bytes, floats } = this.chunkOf[slot]!;
    const start = this.offsets[slot]!;
    if (this.keyframes[slot] === 1) {
      const row = previous.length === shape.slots ? previous : new Float64Array(shape.slots);
      row.set(floats.subarray(start / 8, start / 8 + shape.slots));
      return row;
    }
    let value = (start + maskBytesOf(shape.slots)) / 8;
    let uptime = shape.instancesAt + UPTIME;
    for (let i = 0; i < shape.slots; i++) {
      if ((bytes[start + (i >> 3)]! & (1 << (i & 7))) !== 0) previous[i] = floats[value++]!;
      else if (i === uptime) previous[i] = previous[i]! + elapsedMs;
      if (i === uptime) uptime += INSTANCE_SLOTS;
    }
    return previous;
  }

  /** Drops whole groups from the oldest end while `capacity` rows are left without them. */
  private dropOldGroups(): void {
    while (this.count > this.capacity) {
      let group = 1;
      while (group < this.count && this.keyframes[this.slot(group)] === 0) group++;
      if (this.count - group < this.capacity) return;
      for (let i = 0; i < group; i++) {
        const slot = this.slot(i);
        this.chunkOf[slot] = undefined;
        this.shapeOf[slot] = undefined;
      }
      this.head = this.slot(group);
      this.count -= group;
      const oldest = this.chunkOf[this.head];
      while (this.chunks.length > 0 && this.chunks[0] !== oldest) this.chunks.shift();
    }
  }
}
