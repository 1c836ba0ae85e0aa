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
function readDoubles(reader: WireReader, wireType: number, into: number[]): void {
  if (wireType === FIXED64) {
    into.push(reader.double());
    return;
  }
  if (wireType !== LENGTH_DELIMITED) return reader.skip(wireType);
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
      const tag = r.uint32();
      const wireType = tag & 7;
      switch (tag >>> 3) {
        case 1:
          this.cpuPercent = doubleOr(r, wireType, this.cpuPercent);
          break;
        case 2:
          this.memoryUsedBytes = countOr(r, wireType, this.memoryUsedBytes);
          break;
        case 3:
          this.memoryTotalBytes = countOr(r, wireType, this.memoryTotalBytes);
          break;
        case 4:
          this.loadOneMinute = doubleOr(r, wireType, this.loadOneMinute);
          break;
        case 5:
          this.loadFiveMinutes = doubleOr(r, wireType, this.loadFiveMinutes);
          break;
        case 6:
          this.loadFifteenMinutes = doubleOr(r, wireType, this.loadFifteenMinutes);
          break;
        case 7:
          readDoubles(r, wireType, this.perCorePercent);
          break;
        case 8:
          this.swapUsedBytes = countOr(r, wireType, this.swapUsedBytes);
          break;
        case 9:
          this.swapTotalBytes = countOr(r, wireType, this.swapTotalBytes);
          break;
        case 10:
          this.diskReadBytesPerSec = doubleOr(r, wireType, this.diskReadBytesPerSec);
          break;
        case 11:
          this.diskWriteBytesPerSec = doubleOr(r, wireType, this.diskWriteBytesPerSec);
          break;
        case 12:
          this.netRxBytesPerSec = doubleOr(r, wireType, this.netRxBytesPerSec);
          break;
        case 13:
          this.netTxBytesPerSec = doubleOr(r, wireType, this.netTxBytesPerSec);
          break;
        case 14:
          if (wireType === LENGTH_DELIMITED) this.filesystems.push(readFilesystem(r));
          else r.skip(wireType);
          break;
        case 15:
          if (wireType === LENGTH_DELIMITED) this.gpus.push(readGpu(r));
          else r.skip(wireType);
          break;
        default:
          r.skip(wireType);
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
      const tag = r.uint32();
      const wireType = tag & 7;
      switch (tag >>> 3) {
        case 1:
          if (wireType === VARINT) atMs = r.int64(true);
          else r.skip(wireType);
          break;
        case 2:
          if (wireType === LENGTH_DELIMITED) {
            this.hostScratch.read(r);
            this.host = this.hostScratch;
          } else r.skip(wireType);
          break;
        case 3:
          if (wireType === LENGTH_DELIMITED) this.instances.push(readInstance(r));
          else r.skip(wireType);
          break;
        default:
          r.skip(wireType);
      }
    }
    return atMs;
  }
}

function doubleOr(r: WireReader, wireType: number, kept: number): number {
  if (wireType === FIXED64) return r.double();
  r.skip(wireType);
  return kept;
}

function countOr(r: WireReader, wireType: number, kept: number): number {
  if (wireType === VARINT) return r.int64(false);
  r.skip(wireType);
  return kept;
}

function uint32Or(r: WireReader, wireType: number, kept: number): number {
  if (wireType === VARINT) return r.uint32();
  r.skip(wireType);
  return kept;
}

function stringOr(r: WireReader, wireType: number, kept: string): string {
  if (wireType === LENGTH_DELIMITED) return r.string();
  r.skip(wireType);
  return kept;
}

function readFilesystem(r: WireReader): ScratchFilesystem {
  const fs: ScratchFilesystem = { mount: '', usedBytes: 0, totalBytes: 0 };
  const outer = r.enter();
  while (r.more()) {
    const tag = r.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        fs.mount = stringOr(r, wireType, fs.mount);
        break;
      case 2:
        fs.usedBytes = countOr(r, wireType, fs.usedBytes);
        break;
      case 3:
        fs.totalBytes = countOr(r, wireType, fs.totalBytes);
        break;
      default:
        r.skip(wireType);
    }
  }
  r.leave(outer);
  return fs;
}

function readGpu(r: WireReader): ScratchGpu {
  const gpu: ScratchGpu = { index: 0 };
  const outer = r.enter();
  while (r.more()) {
    const tag = r.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        gpu.index = uint32Or(r, wireType, gpu.index);
        break;
      case 3:
        if (wireType === FIXED64) gpu.utilizationPercent = r.double();
        else r.skip(wireType);
        break;
      case 4:
        if (wireType === VARINT) gpu.memoryUsedBytes = r.int64(false);
        else r.skip(wireType);
        break;
      case 5:
        if (wireType === VARINT) gpu.memoryTotalBytes = r.int64(false);
        else r.skip(wireType);
        break;
      case 6:
        if (wireType === FIXED64) gpu.temperatureC = r.double();
        else r.skip(wireType);
        break;
      default:
        // 2, the GPU's name, is not a series.
        r.skip(wireType);
    }
  }
  r.leave(outer);
  return gpu;
}

function readInstance(r: WireReader): ScratchInstance {
  const instance: ScratchInstance = { instance: '', cpuPercent: 0, rssBytes: 0, pid: 0, threads: 0, restarts: 0, operatorRestarts: 0 };
  const outer = r.enter();
  while (r.more()) {
    const tag = r.uint32();
    const wireType = tag & 7;
    switch (tag >>> 3) {
      case 1:
        instance.instance = stringOr(r, wireType, instance.instance);
        break;
      case 2:
        instance.cpuPercent = doubleOr(r, wireType, instance.cpuPercent);
        break;
      case 3:
        instance.rssBytes = countOr(r, wireType, instance.rssBytes);
        break;
      case 5:
        instance.pid = uint32Or(r, wireType, instance.pid);
        break;
      case 6:
        instance.threads = uint32Or(r, wireType, instance.threads);
        break;
      case 7:
        if (wireType === VARINT) instance.openFiles = r.uint32();
        else r.skip(wireType);
        break;
      case 8:
        instance.restarts = uint32Or(r, wireType, instance.restarts);
        break;
      case 10:
        instance.operatorRestarts = uint32Or(r, wireType, instance.operatorRestarts);
        break;
      case 11:
        if (wireType === VARINT) instance.logDroppedLines = r.int64(false);
        else r.skip(wireType);
        break;
      default:
        // 4 (process) and 9 (uptime_ms) are not series.
        r.skip(wireType);
    }
  }
  r.leave(outer);
  return instance;
}
