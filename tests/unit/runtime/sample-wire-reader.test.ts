// The StreamMetrics reader of the control center's metric ingest (sample-wire-reader.ts)
// against the generic path it replaces: the same bytes, encoded by the runtime's own loaded
// .proto (the serializer its gRPC server uses), read by protobufjs (decode and toObject with
// the project's loader options) and sampleSeries, must give the same series, values and order.
import { describe, expect, it } from 'vitest';
import { createSampleWireReader, sampleSeries, type MetricSample__Output } from '../../../agents-runtime/src/wire';
import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';
import type { MetricSample } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/MetricSample';
import { seededRandom as random } from '../../support/seeded-random';

const method = loadRuntimeProtos().sutazai.runtime.v1.Runtime.service.StreamMetrics;
const encode = (sample: MetricSample): Buffer => method.responseSerialize(sample);
/** What the ingest stored before: protobufjs's object, sampleSeries's pairs assigned in turn (a name given twice keeps its first place, its last value). */
const generic = (bytes: Buffer): { atMs: number; values: Array<[string, number]> } => {
  const decoded = method.responseDeserialize(bytes) as MetricSample__Output;
  const values: Record<string, number> = {};
  for (const [name, value] of sampleSeries(decoded)) values[name] = value;
  return { atMs: Number(decoded.atMs), values: Object.entries(values) };
};
const read = (reader: ReturnType<typeof createSampleWireReader>, bytes: Buffer) => {
  const { atMs, values } = reader(bytes);
  return { atMs, values: Object.entries(values) };
};

const ODD_DOUBLES = [0, -0, 1e-310, -1e-310, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN, 0.1, -12.5, 2 ** 53 + 2];
const ODD_COUNTS = [
  '0',
  '1',
  '127',
  '128',
  String(2 ** 32 - 1),
  String(2 ** 32),
  String(2 ** 53),
  '9007199254740993',
  '18446744073709551615',
];

function sampleFrom(next: () => number): MetricSample {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const double = (): number => (next() < 0.3 ? pick(ODD_DOUBLES) : (next() - 0.3) * 10 ** Math.floor(next() * 12));
  const count = (): string => (next() < 0.4 ? pick(ODD_COUNTS) : String(Math.floor(next() * 2 ** Math.floor(next() * 60))));
  const small = (): number => (next() < 0.2 ? pick([0, 1, 2 ** 31, 2 ** 32 - 1]) : Math.floor(next() * 1000));
  const maybe = <T>(value: () => T): T | undefined => (next() < 0.5 ? value() : undefined);
  const name = (): string => pick(['agent-1', 'core-1', 'web-12', 'ünïcode-ø', 'a:b', '', 'x'.repeat(300)]);
  const sample: MetricSample = {
    atMs: pick(['0', '1700000000000', '-5', '-9223372036854775808', String(Date.now())]),
    instances: Array.from({ length: Math.floor(next() * 6) }, () => ({
      instance: name(),
      process: pick(['agent', 'core']),
      pid: next() < 0.3 ? 0 : small(),
      cpuPercent: double(),
      rssBytes: count(),
      threads: small(),
      openFiles: maybe(small),
      restarts: small(),
      uptimeMs: count(),
      operatorRestarts: small(),
      logDroppedLines: maybe(count),
    })),
  };
  if (next() < 0.85) {
    sample.host = {
      cpuPercent: double(),
      perCorePercent: Array.from({ length: Math.floor(next() * 5) }, double),
      memoryUsedBytes: count(),
      memoryTotalBytes: count(),
      loadOneMinute: double(),
      loadFiveMinutes: double(),
      loadFifteenMinutes: double(),
      swapUsedBytes: count(),
      swapTotalBytes: count(),
      diskReadBytesPerSec: double(),
      diskWriteBytesPerSec: double(),
      netRxBytesPerSec: double(),
      netTxBytesPerSec: double(),
      filesystems: Array.from({ length: Math.floor(next() * 4) }, () => ({
        mount: pick(['/', '/srv:data', '/var/lib', '/ø']),
        usedBytes: count(),
        totalBytes: count(),
      })),
      gpus: Array.from({ length: Math.floor(next() * 3) }, (_, index) => ({
        index: next() < 0.2 ? 2 ** 32 - 1 : index,
        name: 'NVIDIA H100',
        utilizationPercent: maybe(double),
        memoryUsedBytes: maybe(count),
        memoryTotalBytes: maybe(count),
        temperatureC: maybe(double),
      })),
    };
  }
  return sample;
}

describe('sample wire reader', () => {
  it('reads 500 random samples as protobufjs and sampleSeries do: same series, values and order (NaN, -0, Infinity, subnormals, counts past 2^53, optional fields absent)', () => {
    const reader = createSampleWireReader();
    for (let seed = 1; seed <= 500; seed++) {
      const bytes = encode(sampleFrom(random(seed)));
      expect(read(reader, bytes), `seed ${seed}`).toEqual(generic(bytes));
    }
  });

  it('reads a shipped-shape sample to the values the store keeps: counts as numbers, a stopped instance only up and its restarts', () => {
    const bytes = encode({
      atMs: '1700000000000',
      host: { cpuPercent: 37.5, memoryUsedBytes: String(2 ** 30), memoryTotalBytes: String(8 * 2 ** 30), perCorePercent: [50, 25] },
      instances: [
        { instance: 'agent-1', pid: 42, cpuPercent: 12.5, rssBytes: '50000000', threads: 7, openFiles: 20, restarts: 2 },
        { instance: 'agent-2', pid: 0, restarts: 5, operatorRestarts: 3 },
      ],
    });
    const { atMs, values } = createSampleWireReader()(bytes);
    expect(atMs).toBe(1_700_000_000_000);
    expect(values).toMatchObject({
      'cpu.percent': 37.5,
      'memory.used_bytes': 2 ** 30,
      'memory.used_percent': 12.5,
      'swap.used_bytes': 0,
      'cpu.core_percent:1': 25,
      'process.rss_bytes:agent-1': 50_000_000,
      'process.open_files:agent-1': 20,
      'process.up:agent-2': 0,
      'process.restarts:agent-2': 5,
      'process.operator_restarts:agent-2': 3,
    });
    expect(values).not.toHaveProperty('process.cpu_percent:agent-2');
    expect(values).not.toHaveProperty('process.log_dropped_lines:agent-1');
  });

  it('keeps names across samples without mixing them up: an instance renamed, scaled away and back, a mount changed', () => {
    const reader = createSampleWireReader();
    const turns: MetricSample[] = [
      {
        atMs: '1000',
        instances: [
          { instance: 'agent-1', pid: 1 },
          { instance: 'agent-2', pid: 2 },
        ],
      },
      { atMs: '2000', instances: [{ instance: 'agent-2', pid: 2 }] },
      {
        atMs: '3000',
        host: { filesystems: [{ mount: '/a', usedBytes: '1', totalBytes: '2' }] },
        instances: [{ instance: 'agent-1', pid: 3 }],
      },
      { atMs: '4000', host: { filesystems: [{ mount: '/b', usedBytes: '1', totalBytes: '4' }] }, instances: [] },
    ];
    for (const turn of turns) {
      const bytes = encode(turn);
      expect(read(reader, bytes)).toEqual(generic(bytes));
    }
  });

  it('reads what protobufjs also accepts: an unpacked repeated double, unknown fields, a sub-message given twice (the last wins)', () => {
    const host = (fields: number[]): number[] => [0x12, fields.length, ...fields];
    const double = (field: number, value: number): number[] => [(field << 3) | 1, ...new Uint8Array(new Float64Array([value]).buffer)];
    const bytes = Buffer.from([
      0x08,
      0x96,
      0x01, // at_ms 150
      ...host([...double(1, 99), ...double(7, 1.5)]),
      ...host([...double(7, 10), ...double(7, 20), 0xf8, 0x06, 0x2a, ...double(1, 33)]), // per_core unpacked, field 111 (unknown) 42
      0xa8,
      0x1f,
      0x01, // field 501 (unknown), a varint
      0xb2,
      0x1f,
      0x02,
      0x61,
      0x62, // field 502 (unknown), two bytes
    ]);
    const ours = read(createSampleWireReader(), bytes);
    expect(ours).toEqual(generic(bytes));
    expect(ours.values).toContainEqual(['cpu.core_percent:1', 20]);
    expect(ours.values).toContainEqual(['cpu.percent', 33]);
  });

  it('throws on bytes that are not a whole MetricSample (cut short, a length past the end), as a failed message of the stream', () => {
    const bytes = encode(sampleFrom(random(7)));
    const reader = createSampleWireReader();
    expect(() => reader(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
    expect(() => reader(Buffer.from([0x1a, 0x7f, 0x08]))).toThrow(/truncated/);
    expect(() => reader(Buffer.from([0x0b]))).toThrow(/wire type 3/);
    // And reads the whole one afterwards: a failed message leaves nothing behind.
    expect(read(reader, bytes)).toEqual(generic(bytes));
  });
});
