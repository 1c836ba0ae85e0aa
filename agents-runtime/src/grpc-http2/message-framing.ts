/**
 * gRPC's length-prefixed messages on an HTTP/2 stream: one byte "compressed", four bytes of
 * length (big-endian), then the message. The runtime never compresses and accepts no
 * compressed message (it announces `grpc-accept-encoding: identity`).
 */
import { GrpcCode } from './status-codes';

const HEADER_BYTES = 5;

/** The most a received message may hold, as grpc-js's default receive limit. */
export const DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;

export function frameMessage(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, HEADER_BYTES);
  return frame;
}

/** A stream's bytes that are not messages this side can read: the call ends with `code`. */
export class FramingError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Cuts a stream's DATA into messages as they arrive, whatever the chunking. Refuses a
 * message over `maxBytes` from its header alone, before its bytes are held.
 */
export class MessageReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_RECEIVE_BYTES) {}

  /** The messages completed by `chunk`; throws FramingError on a message it will not read. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const messages: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < HEADER_BYTES) return messages;
      const head = this.peek(HEADER_BYTES);
      const flag = head[0]!;
      const length = head.readUInt32BE(1);
      if (flag === 1)
        throw new FramingError(GrpcCode.UNIMPLEMENTED, 'compressed messages are not accepted (grpc-accept-encoding: identity)');
      if (flag !== 0) throw new FramingError(GrpcCode.INTERNAL, `a message starts with the flag byte ${flag}, not 0 or 1`);
      if (length > this.maxBytes)
        throw new FramingError(GrpcCode.RESOURCE_EXHAUSTED, `Received message larger than max (${length} vs. ${this.maxBytes})`);
      if (this.pendingBytes < HEADER_BYTES + length) return messages;
      const whole = this.take(HEADER_BYTES + length);
      messages.push(whole.subarray(HEADER_BYTES));
    }
  }

  /** Bytes received that are not a whole message yet (a stream that ends with some is cut short). */
  get partialBytes(): number {
    return this.pendingBytes;
  }

  private peek(bytes: number): Buffer {
    if (this.pending[0]!.length < bytes) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0]!.subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const rest = all.subarray(bytes);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, bytes);
  }
}
