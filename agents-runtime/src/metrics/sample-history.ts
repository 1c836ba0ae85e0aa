/**
 * The metrics history: the last `capacity` samples (15 minutes at 1 s), for a client that
 * reconnects and asks for what it missed (streamMetrics' backfill).
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
 * numbers past 32 bits included (Object.is on every slot).
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
/** cpuPercent, rssBytes, uptimeMs, logDroppedLines, pid, threads, openFiles, restarts, operatorRestarts. */
const INSTANCE_SLOTS = 9;
const UPTIME_SLOT = 2;

/** What a row's slots mean: everything of a sample that is not a number. Rows of one shape share it. */
interface Shape {
  cores: number;
  mounts: readonly string[];
  gpus: readonly (readonly [index: number, name: string])[];
  instances: readonly (readonly [instance: string, process: string])[];
  gpusAt: number;
  instancesAt: number;
  slots: number;
}

interface Chunk {
  view: DataView;
  used: number;
}

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
    gpusAt,
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
  for (let i = 0; i < shape.instances.length; i++) {
    const [instance, process] = shape.instances[i]!;
    if (instance !== instances[i]!.instance || process !== instances[i]!.process) return false;
  }
  return true;
}

const orNaN = (value: number | null | undefined): number => (value === null || value === undefined ? NaN : value);
const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);

/** The sample's numbers into `row`, in the shape's slot order. */
function fillRow(sample: MetricSample, shape: Shape, row: Float64Array): void {
  const { host, instances } = sample;
  let at = 0;
  for (let i = 0; i < HOST_SCALARS.length; i++) row[at++] = host[HOST_SCALARS[i]!];
  for (let i = 0; i < shape.cores; i++) row[at++] = host.perCorePercent[i]!;
  for (let i = 0; i < shape.mounts.length; i++) {
    const fs = host.filesystems[i]!;
    row[at++] = fs.usedBytes;
    row[at++] = fs.totalBytes;
  }
  for (let i = 0; i < shape.gpus.length; i++) {
    const gpu = host.gpus[i]!;
    row[at++] = orNaN(gpu.utilizationPercent);
    row[at++] = orNaN(gpu.memoryUsedBytes);
    row[at++] = orNaN(gpu.memoryTotalBytes);
    row[at++] = orNaN(gpu.temperatureC);
  }
  for (let i = 0; i < instances.length; i++) {
    const m = instances[i]!;
    row[at++] = m.cpuPercent;
    row[at++] = m.rssBytes;
    row[at++] = orNaN(m.uptimeMs);
    // A present count is never NaN: NaN says the stamper keeps none (the field is absent).
    row[at++] = orNaN(m.logDroppedLines);
    row[at++] = orNaN(m.pid);
    row[at++] = m.threads;
    row[at++] = orNaN(m.openFiles);
    row[at++] = m.restarts;
    row[at++] = m.operatorRestarts;
  }
}

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
    const dropped = row[at + 3]!;
    const m: InstanceMetrics = {
      instance,
      process,
      pid: orNull(row[at + 4]!),
      cpuPercent: row[at]!,
      rssBytes: row[at + 1]!,
      threads: row[at + 5]!,
      openFiles: orNull(row[at + 6]!),
      restarts: row[at + 7]!,
      operatorRestarts: row[at + 8]!,
      uptimeMs: orNull(row[at + 2]!),
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
  /** The newest row and the one being written (swapped), and the newest row's shape. */
  private newest = new Float64Array(0);
  private next = new Float64Array(0);
  private newestShape: Shape | null = null;

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

  /** Bytes the kept rows take (their chunks): what the history costs, for the benchmark and tests. */
  get bytesHeld(): number {
    let bytes = 0;
    for (const chunk of this.chunks) bytes += chunk.view.byteLength;
    return bytes;
  }

  newestAtMs(): number | null {
    return this.count === 0 ? null : this.times[this.slot(this.count - 1)]!;
  }

  /** false (and nothing stored) when the sample is older than the newest one. */
  push(sample: MetricSample): boolean {
    const newestAt = this.newestAtMs();
    if (newestAt !== null && sample.atMs < newestAt) return false;
    const previousShape = this.newestShape;
    const shape = previousShape !== null && fitsShape(previousShape, sample) ? previousShape : shapeOf(sample);
    if (this.next.length !== shape.slots) this.next = new Float64Array(shape.slots);
    fillRow(sample, shape, this.next);
    const whole = shape !== previousShape || this.sinceKeyframe >= KEYFRAME_EVERY;
    this.write(sample.atMs, shape, whole, newestAt === null ? 0 : sample.atMs - newestAt);
    const written = this.next;
    this.next = this.newest;
    this.newest = written;
    this.newestShape = shape;
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

  /**
   * Appends the row in `next`: whole, or a bit mask of the slots that differ from what
   * `newest` makes expected (an uptime grown by `elapsedMs`) followed by those slots.
   */
  private write(atMs: number, shape: Shape, whole: boolean, elapsedMs: number): void {
    const { next, newest } = this;
    const maskBytes = Math.ceil(shape.slots / 8);
    // Room for the largest the row can be; the chunk keeps only what it took.
    const most = whole ? shape.slots * 8 : maskBytes + shape.slots * 8;
    let chunk = this.chunks.at(-1);
    if (chunk === undefined || chunk.used + most > chunk.view.byteLength) {
      // Four of the largest row at least: a chunk is left once the next row might not fit, so at most a quarter of it stays unused.
      chunk = { view: new DataView(new ArrayBuffer(Math.max(CHUNK_BYTES, 4 * most))), used: 0 };
      this.chunks.push(chunk);
    }
    const { view } = chunk;
    const start = chunk.used;
    let at = start;
    if (whole) {
      for (let i = 0; i < shape.slots; i++, at += 8) view.setFloat64(at, next[i]!, true);
    } else {
      at += maskBytes;
      let bits = 0;
      let uptime = shape.instancesAt + UPTIME_SLOT;
      for (let i = 0; i < shape.slots; i++) {
        let want = newest[i]!;
        if (i === uptime) {
          want += elapsedMs;
          uptime += INSTANCE_SLOTS;
        }
        if (!Object.is(next[i], want)) {
          bits |= 1 << (i & 7);
          view.setFloat64(at, next[i]!, true);
          at += 8;
        }
        if ((i & 7) === 7 || i === shape.slots - 1) {
          view.setUint8(start + (i >> 3), bits);
          bits = 0;
        }
      }
    }
    chunk.used = at;
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
    const view = this.chunkOf[slot]!.view;
    const start = this.offsets[slot]!;
    if (this.keyframes[slot] === 1) {
      const row = previous.length === shape.slots ? previous : new Float64Array(shape.slots);
      for (let i = 0, at = start; i < shape.slots; i++, at += 8) row[i] = view.getFloat64(at, true);
      return row;
    }
    let at = start + Math.ceil(shape.slots / 8);
    let bits = 0;
    let uptime = shape.instancesAt + UPTIME_SLOT;
    for (let i = 0; i < shape.slots; i++) {
      if ((i & 7) === 0) bits = view.getUint8(start + (i >> 3));
      if ((bits & (1 << (i & 7))) !== 0) {
        previous[i] = view.getFloat64(at, true);
        at += 8;
      } else if (i === uptime) previous[i] = previous[i]! + elapsedMs;
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
