import { forEachSeriesValue, instanceSeriesNames, type InstanceSeriesNames, type SampleReadings, type SeriesNamer } from './sample-series';
import { seriesName, type HostKeyedFamily } from './series-names';

/** A StreamMetrics sample as the control center stores it: its time and its series' values by name. */
export interface SeriesSample {
  /** The runtime's clock, ms. */
  atMs: number;
  values: Record<string, number>;
}

/**
 * Reads one StreamMetrics message (runtime.proto MetricSample) from its wire bytes straight
 * into series values (the pairs of sample-series.ts, by the same forEachSeriesValue), for a
 * gRPC stream's own deserializer. The generic path, protobufjs's decode and then toObject with
 * `longs: String`, builds a Long and a decimal string for every 64-bit count and an object
 * per message and sub-message, all thrown away a line later; at a sample a second per host
 * that was a large part of what ingesting a fleet cost (bench:fleet's profile). Here one
 * reader's scratch readings are filled in place and the names of keyed series are kept from
 * one sample to the next, so a second's names are the same strings as the last second's.
 *
 * One reader per stream: its scratch and names are its own. Proto3 rules as protobufjs
 * applies them: an absent field reads as its zero (an absent `optional` one as absent),
 * the last occurrence of a scalar wins, a repeated double comes packed or not, fields this
 * reader does not know are skipped, and 64-bit counts are numbers (exact to 2^53, rounded
 * above as Number(decimal) rounds). Bytes that are not a MetricSample throw, which the gRPC
 * stream reports as a failed message like any it cannot parse.
 */
export function createSampleWireReader(): (bytes: Uint8Array) => SeriesSample {
  const names = keptSeriesNames();
  const scratch = new ScratchSample();
  return (bytes) => {
    const reader = new WireReader(bytes);
    const atMs = scratch.read(reader);
    const values: Record<string, number> = {};
    forEachSeriesValue(
      scratch,
      (name, value) => {
        values[name] = value;
      },
      names,
    );
    return { atMs, values };
  };
}

/** Names kept by key, bounded: keys come and go (instances scaled, mounts) and must not grow it without end. */
const MAX_KEPT_NAMES = 4_096;

function keptSeriesNames(): SeriesNamer {
  const keyed = new Map<HostKeyedFamily, Map<string | number, string>>();
  const instances = new Map<string, InstanceSeriesNames>();
  let kept = 0;
  const room = (): void => {
    if (kept < MAX_KEPT_NAMES) return;
    keyed.clear();
    instances.clear();
    kept = 0;
  };
  return {
    keyed(family, key) {
      const name = keyed.get(family)?.get(key);
      if (name !== undefined) return name;
      room();
      let byKey = keyed.get(family);
      if (byKey === undefined) keyed.set(family, (byKey = new Map()));
      const made = seriesName(family, key);
      byKey.set(key, made);
      kept += 1;
      return made;
    },
    instance(instance) {
      const names = instances.get(instance);
      if (names !== undefined) return names;
      room();
      const made = instanceSeriesNames(instance);
      instances.set(instance, made);
      kept += 1;
      return made;
    },
  };
}

// Wire types (protobuf encoding).
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const TWO_32 = 4_294_967_296;

class WireError extends Error {}

/** A cursor over protobuf bytes, bounded by `end` (a sub-message's end inside the same bytes). */
class WireReader {
  pos = 0;
  end: number;
  /** The wire type of the field `field()` read last. */
  wireType = VARINT;
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.end = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError('MetricSample truncated');
  }

  /** A varint's low 32 bits as an unsigned number (uint32, enum, tag, length; higher bits dropped as protobufjs does). */
  uint32(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const byte = this.bytes[this.pos++]!;
      if (shift < 32) value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value % TWO_32;
      shift += 7;
    }
    throw new WireError('MetricSample has a varint over 10 bytes');
  }

  /** A varint as a 64-bit integer, as a number: unsigned, or two's complement when `signed` (int64). */
  int64(signed: boolean): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const byte = this.bytes[this.pos++]!;
      const bits = byte & 0x7f;
      const shift = 7 * i;
      if (shift < 28) lo += bits * 2 ** shift;
      else if (shift === 28) {
        lo += (bits & 0x0f) * 2 ** 28;
        hi += bits >>> 4;
      } else if (shift < 64) hi += (bits * 2 ** (shift - 32)) % TWO_32;
      if (byte < 0x80) {
        hi %= TWO_32;
        if (signed && hi >= 0x80000000) return -((TWO_32 - 1 - hi) * TWO_32 + (TWO_32 - lo));
        return hi * TWO_32 + lo;
      }
    }
    throw new WireError('MetricSample has a varint over 10 bytes');
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  string(): string {
    const length = this.uint32();
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return TEXT.decode(this.bytes.subarray(start, this.pos));
  }

  /** Enters a length-delimited field: returns the end to restore with `leave`. */
  enter(): number {
    const length = this.uint32();
    this.need(length);
    const outer = this.end;
    this.end = this.pos + length;
    return outer;
  }

  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a field's tag: returns its number and keeps its wire type in `wireType` for the read that follows. */
  field(): number {
    const tag = this.uint32();
    this.wireType = tag & 7;
    return tag >>> 3;
  }

  /** Skips the field `field()` read last. */
  skipField(): void {
    this.skip(this.wireType);
  }

  // The field's value, or `kept` (the field skipped) when it came with another wire type than its own.
  doubleOr<K>(kept: K): number | K {
    if (this.wireType === FIXED64) return this.double();
    this.skipField();
    return kept;
  }

  countOr<K>(kept: K): number | K {
    if (this.wireType === VARINT) return this.int64(false);
    this.skipField();
    return kept;
  }

  uint32Or<K>(kept: K): number | K {
    if (this.wireType === VARINT) return this.uint32();
    this.skipField();
    return kept;
  }

  stringOr(kept: string): string {
    if (this.wireType === LENGTH_DELIMITED) return this.string();
    this.skipField();
    return kept;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.int64(false);
        return;
      case FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case LENGTH_DELIMITED: {
        const length = this.uint32();
        this.need(length);
        this.pos += length;
        return;
      }
      case FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new WireError(`MetricSample has a field of wire type ${wireType}`);
    }
  }
}

const TEXT = new TextDecoder();

/** A repeated double: packed (one length-delimited run) or one value per field. */
function readDoubles(reader: WireReader, into: number[]): void {
  if (reader.wireType === FIXED64) {
    into.push(reader.double());
    return;
  }
  if (reader.wireType !== LENGTH_DELIMITED) return reader.skipField();
  const outer = reader.enter();
  while (reader.more()) into.push(reader.double());
  reader.leave(outer);
}

interface ScratchFilesystem {
  mount: string;
  usedBytes: number;
  totalBytes: number;
}

interface ScratchGpu {
  index: number;
  utilizationPercent?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  temperatureC?: number;
}

interface ScratchInstance {
  instance: string;
  cpuPercent: number;
  rssBytes: number;
  pid: number;
  threads: number;
  openFiles?: number;
  restarts: number;
  operatorRestarts: number;
  logDroppedLines?: number;
}

class ScratchHost {
  cpuPercent = 0;
  memoryUsedBytes = 0;
  memoryTotalBytes = 0;
  loadOneMinute = 0;
  loadFiveMinutes = 0;
  loadFifteenMinutes = 0;
  perCorePercent: number[] = [];
  swapUsedBytes = 0;
  swapTotalBytes = 0;
  diskReadBytesPerSec = 0;
  diskWriteBytesPerSec = 0;
  netRxBytesPerSec = 0;
  netTxBytesPerSec = 0;
  filesystems: ScratchFilesystem[] = [];
  gpus: ScratchGpu[] = [];

  /** HostMetrics; a second occurrence of the field replaces the first, as protobufjs's decode does. */
  read(r: WireReader): void {
    this.cpuPercent = this.memoryUsedBytes = this.memoryTotalBytes = 0;
    this.loadOneMinute = this.loadFiveMinutes = this.loadFifteenMinutes = 0;
    this.swapUsedBytes = this.swapTotalBytes = 0;
    this.diskReadBytesPerSec = this.diskWriteBytesPerSec = this.netRxBytesPerSec = this.netTxBytesPerSec = 0;
    this.perCorePercent.length = 0;
    this.filesystems.length = 0;
    this.gpus.length = 0;
    const outer = r.enter();
    while (r.more()) {
      switch (r.field()) {
        case 1:
          this.cpuPercent = r.doubleOr(this.cpuPercent);
          break;
        case 2:
          this.memoryUsedBytes = r.countOr(this.memoryUsedBytes);
          break;
        case 3:
          this.memoryTotalBytes = r.countOr(this.memoryTotalBytes);
          break;
        case 4:
          this.loadOneMinute = r.doubleOr(this.loadOneMinute);
          break;
        case 5:
          this.loadFiveMinutes = r.doubleOr(this.loadFiveMinutes);
          break;
        case 6:
          this.loadFifteenMinutes = r.doubleOr(this.loadFifteenMinutes);
          break;
        case 7:
          readDoubles(r, this.perCorePercent);
          break;
        case 8:
          this.swapUsedBytes = r.countOr(this.swapUsedBytes);
          break;
        case 9:
          this.swapTotalBytes = r.countOr(this.swapTotalBytes);
          break;
        case 10:
          this.diskReadBytesPerSec = r.doubleOr(this.diskReadBytesPerSec);
          break;
        case 11:
          this.diskWriteBytesPerSec = r.doubleOr(this.diskWriteBytesPerSec);
          break;
        case 12:
          this.netRxBytesPerSec = r.doubleOr(this.netRxBytesPerSec);
          break;
        case 13:
          this.netTxBytesPerSec = r.doubleOr(this.netTxBytesPerSec);
          break;
        case 14:
          if (r.wireType === LENGTH_DELIMITED) this.filesystems.push(readFilesystem(r));
          else r.skipField();
          break;
        case 15:
          if (r.wireType === LENGTH_DELIMITED) this.gpus.push(readGpu(r));
          else r.skipField();
          break;
        default:
          r.skipField();
      }
    }
    r.leave(outer);
  }
}

class ScratchSample implements SampleReadings {
  host: ScratchHost | null = null;
  instances: ScratchInstance[] = [];
  private readonly hostScratch = new ScratchHost();

  /** Fills this from one MetricSample; returns its at_ms. */
  read(r: WireReader): number {
    let atMs = 0;
    this.host = null;
    this.instances.length = 0;
    while (r.more()) {
      switch (r.field()) {
        case 1:
          if (r.wireType === VARINT) atMs = r.int64(true);
          else r.skipField();
          break;
        case 2:
          if (r.wireType === LENGTH_DELIMITED) {
            this.hostScratch.read(r);
            this.host = this.hostScratch;
          } else r.skipField();
          break;
        case 3:
          if (r.wireType === LENGTH_DELIMITED) this.instances.push(readInstance(r));
          else r.skipField();
          break;
        default:
          r.skipField();
      }
    }
    return atMs;
  }
}

function readFilesystem(r: WireReader): ScratchFilesystem {
  const fs: ScratchFilesystem = { mount: '', usedBytes: 0, totalBytes: 0 };
  const outer = r.enter();
  while (r.more()) {
    switch (r.field()) {
      case 1:
        fs.mount = r.stringOr(fs.mount);
        break;
      case 2:
        fs.usedBytes = r.countOr(fs.usedBytes);
        break;
      case 3:
        fs.totalBytes = r.countOr(fs.totalBytes);
        break;
      default:
        r.skipField();
    }
  }
  r.leave(outer);
  return fs;
}

function readGpu(r: WireReader): ScratchGpu {
  const gpu: ScratchGpu = { index: 0 };
  const outer = r.enter();
  while (r.more()) {
    switch (r.field()) {
      case 1:
        gpu.index = r.uint32Or(gpu.index);
        break;
      case 3:
        gpu.utilizationPercent = r.doubleOr(gpu.utilizationPercent);
        break;
      case 4:
        gpu.memoryUsedBytes = r.countOr(gpu.memoryUsedBytes);
        break;
      case 5:
        gpu.memoryTotalBytes = r.countOr(gpu.memoryTotalBytes);
        break;
      case 6:
        gpu.temperatureC = r.doubleOr(gpu.temperatureC);
        break;
      default:
        // 2, the GPU's name, is not a series.
        r.skipField();
    }
  }
  r.leave(outer);
  return gpu;
}

function readInstance(r: WireReader): ScratchInstance {
  const instance: ScratchInstance = { instance: '', cpuPercent: 0, rssBytes: 0, pid: 0, threads: 0, restarts: 0, operatorRestarts: 0 };
  const outer = r.enter();
  while (r.more()) {
    switch (r.field()) {
      case 1:
        instance.instance = r.stringOr(instance.instance);
        break;
      case 2:
        instance.cpuPercent = r.doubleOr(instance.cpuPercent);
        break;
      case 3:
        instance.rssBytes = r.countOr(instance.rssBytes);
        break;
      case 5:
        instance.pid = r.uint32Or(instance.pid);
        break;
      case 6:
        instance.threads = r.uint32Or(instance.threads);
        break;
      case 7:
        instance.openFiles = r.uint32Or(instance.openFiles);
        break;
      case 8:
        instance.restarts = r.uint32Or(instance.restarts);
        break;
      case 10:
        instance.operatorRestarts = r.uint32Or(instance.operatorRestarts);
        break;
      case 11:
        instance.logDroppedLines = r.countOr(instance.logDroppedLines);
        break;
      default:
        // 4 (process) and 9 (uptime_ms) are not series.
        r.skipField();
    }
  }
  r.leave(outer);
  return instance;
}
