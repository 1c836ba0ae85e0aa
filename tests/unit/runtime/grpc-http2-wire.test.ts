import { Metadata } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { CallMetadata } from '../../../agents-runtime/src/grpc-http2/call-metadata';
import {
  DEFAULT_MAX_RECEIVE_BYTES,
  FramingError,
  frameMessage,
  MessageReader,
} from '../../../agents-runtime/src/grpc-http2/message-framing';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  formatGrpcTimeout,
  parseGrpcTimeout,
} from '../../../agents-runtime/src/grpc-http2/protocol-headers';
import { GrpcCode, grpcCodeName } from '../../../agents-runtime/src/grpc-http2/status-codes';
import { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire/error-metadata';

describe('message framing', () => {
  it('cuts messages out of any chunking, one byte at a time included', () => {
    const messages = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
    const stream = Buffer.concat(messages.map(frameMessage));
    for (const size of [1, 3, 5, 6, 4096, stream.length]) {
      const reader = new MessageReader();
      const out: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) out.push(...reader.push(stream.subarray(at, at + size)));
      // Compared as hex: a deep equality of 70 KB Buffers element by element takes seconds.
      expect(out.map((m) => m.toString('hex'))).toEqual(messages.map((m) => m.toString('hex')));
      expect(reader.partialBytes).toBe(0);
    }
  });

  it('refuses a message over the limit from its header, before its bytes arrive', () => {
    const reader = new MessageReader(1024);
    const header = Buffer.from([0, 0, 0, 0x04, 0x01]);
    expect(() => reader.push(header)).toThrow(FramingError);
    const huge = (): Buffer[] => new MessageReader().push(Buffer.from([0, 0xff, 0xff, 0xff, 0xff]));
    expect(huge).toThrow(`Received message larger than max (4294967295 vs. ${DEFAULT_MAX_RECEIVE_BYTES})`);
    expect(huge).toThrow(expect.objectContaining({ code: GrpcCode.RESOURCE_EXHAUSTED }));
  });

  it('refuses a compressed message (UNIMPLEMENTED) and a flag byte that is neither 0 nor 1 (INTERNAL)', () => {
    const push = (flag: number) => (): Buffer[] => new MessageReader().push(Buffer.from([flag, 0, 0, 0, 1, 0x41]));
    const codeOf = (flag: number): number | undefined => {
      const error: unknown = ((): unknown => {
        try {
          push(flag)();
          return undefined;
        } catch (thrown) {
          return thrown;
        }
      })();
      return error instanceof FramingError ? error.code : undefined;
    };
    expect(codeOf(1)).toBe(GrpcCode.UNIMPLEMENTED);
    expect(codeOf(2)).toBe(GrpcCode.INTERNAL);
    expect(codeOf(0)).toBeUndefined();
  });

  it('keeps an unfinished message as partial bytes', () => {
    const reader = new MessageReader();
    expect(reader.push(frameMessage(Buffer.from('abc')).subarray(0, 6))).toEqual([]);
    expect(reader.partialBytes).toBe(6);
  });
});

describe('grpc-timeout and grpc-message', () => {
  it('reads every unit and ignores what is not of the protocol form', () => {
    expect(parseGrpcTimeout('2H')).toBe(7_200_000);
    expect(parseGrpcTimeout('3M')).toBe(180_000);
    expect(parseGrpcTimeout('4S')).toBe(4000);
    expect(parseGrpcTimeout('5m')).toBe(5);
    expect(parseGrpcTimeout('6000u')).toBe(6);
    expect(parseGrpcTimeout('7000000n')).toBe(7);
    for (const bad of ['', '1', 'S', '123456789m', '-1S', '1.5S', '1s', '1 S', undefined, ['1S']]) expect(parseGrpcTimeout(bad)).toBeNull();
  });

  it('writes at most 8 digits, in a coarser unit when it must', () => {
    expect(formatGrpcTimeout(10_000)).toBe('10000m');
    expect(formatGrpcTimeout(0.2)).toBe('1m');
    expect(formatGrpcTimeout(2e8)).toBe('200000S');
    expect(formatGrpcTimeout(1e12)).toBe('277778H');
    for (const ms of [1, 99_999_999, 1e8, 5e11, 1e20]) expect(formatGrpcTimeout(ms)).toMatch(/^\d{1,8}[mSH]$/);
  });

  it('percent-encodes a status message and reads it back whole: UTF-8, a newline, a percent sign', () => {
    const text = 'naïve 100% – line one\nline two';
    const encoded = encodeGrpcMessage(text);
    expect(encoded).toMatch(/^[\x20-\x7e]*$/);
    expect(encoded).toContain('100%25');
    expect(decodeGrpcMessage(encoded)).toBe(text);
    expect(decodeGrpcMessage('bad %zz escape %4')).toBe('bad %zz escape %4');
    expect(decodeGrpcMessage(undefined)).toBe('');
  });

  it('names every status code, and a number outside the table UNKNOWN', () => {
    expect(grpcCodeName(GrpcCode.UNAUTHENTICATED)).toBe('UNAUTHENTICATED');
    expect(grpcCodeName(0)).toBe('OK');
    expect(grpcCodeName(99)).toBe('UNKNOWN');
  });
});

describe('call metadata', () => {
  it('keeps text and binary values, and writes -bin values as base64 headers', () => {
    const metadata = new CallMetadata();
    metadata.set('Sutazai-Error-Code', 'PROCESS_NOT_FOUND');
    metadata.add('trace-bin', Buffer.from([0, 1, 255]));
    metadata.add('trace-bin', Buffer.from('x'));
    expect(metadata.get('sutazai-error-code')).toEqual(['PROCESS_NOT_FOUND']);
    expect(metadata.toHeaders()).toEqual({ 'sutazai-error-code': 'PROCESS_NOT_FOUND', 'trace-bin': ['AAH/', 'eA=='] });
    metadata.remove('trace-bin');
    expect(metadata.get('trace-bin')).toEqual([]);
  });

  it('refuses a key or value a header cannot carry', () => {
    const metadata = new CallMetadata();
    expect(() => metadata.set('bad key', 'x')).toThrow(/characters/);
    expect(() => metadata.set('plain', Buffer.from('x'))).toThrow(/text/);
    expect(() => metadata.set('data-bin', 'x')).toThrow(/Buffer/);
    expect(() => metadata.set('remedy', 'two\nlines')).toThrow(/printable/);
  });

  it('reads received headers without the pseudo-headers, the protocol fields and what it cannot represent', () => {
    const metadata = CallMetadata.fromHeaders({
      ':path': '/x.Y/Z',
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '1S',
      authorization: 'Bearer abc',
      'trace-bin': 'AAH/,eA',
      'Bad Name': 'x',
      'text-with-controls': 'a\u0001b',
    });
    expect(metadata.get('authorization')).toEqual(['Bearer abc']);
    expect(metadata.get('trace-bin')).toEqual([Buffer.from([0, 1, 255]), Buffer.from('x')]);
    expect(Object.keys(metadata.toHeaders()).sort()).toEqual(['authorization', 'trace-bin']);
  });

  it("gives the runtime's error code and remedy to runtimeErrorFromMetadata, as grpc-js's Metadata does", () => {
    const ours = new CallMetadata();
    const theirs = new Metadata();
    for (const m of [ours, theirs]) {
      m.set('sutazai-error-code', 'SPAWN_FAILED');
      m.set('sutazai-remedy', 'install the program');
    }
    expect(runtimeErrorFromMetadata(ours)).toEqual({ code: 'SPAWN_FAILED', remedy: 'install the program' });
    expect(runtimeErrorFromMetadata(theirs)).toEqual(runtimeErrorFromMetadata(ours));
    expect(runtimeErrorFromMetadata(new CallMetadata())).toBeNull();
  });
});
