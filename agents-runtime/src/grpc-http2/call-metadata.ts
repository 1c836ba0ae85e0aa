/**
 * A call's metadata (gRPC's name for the custom HTTP/2 headers and trailers): lower-case
 * keys, text values for plain keys, bytes for keys ending in `-bin` (base64 on the wire).
 * The subset of grpc-js's Metadata the runtime uses (get, set, add, remove), so code that
 * reads a status's metadata works with either.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

export type MetadataValue = string | Buffer;

/** Headers that carry the protocol itself, never a call's metadata. */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'te',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'grpc-status',
  'grpc-message',
]);

const KEY = /^[0-9a-z_.-]+$/;

function checkEntry(key: string, value: MetadataValue): void {
  if (!KEY.test(key)) throw new Error(`metadata key "${key}" has characters other than 0-9 a-z _ . -`);
  const binary = key.endsWith('-bin');
  if (binary !== Buffer.isBuffer(value))
    throw new Error(`metadata key "${key}" takes ${binary ? 'a Buffer' : 'text'} (keys ending in -bin are binary)`);
  if (!binary && !/^[\x20-\x7e]*$/.test(value as string)) throw new Error(`metadata value of "${key}" is not printable ASCII`);
}

export class CallMetadata {
  private readonly entries = new Map<string, MetadataValue[]>();

  get(key: string): MetadataValue[] {
    return [...(this.entries.get(key.toLowerCase()) ?? [])];
  }

  set(key: string, value: MetadataValue): void {
    const name = key.toLowerCase();
    checkEntry(name, value);
    this.entries.set(name, [value]);
  }

  add(key: string, value: MetadataValue): void {
    const name = key.toLowerCase();
    checkEntry(name, value);
    const list = this.entries.get(name);
    if (list === undefined) this.entries.set(name, [value]);
    else list.push(value);
  }

  remove(key: string): void {
    this.entries.delete(key.toLowerCase());
  }

  /** Adds every value of `other` to this. */
  merge(other: CallMetadata): void {
    for (const [key, values] of other.entries) for (const value of values) this.add(key, value);
  }

  /** The metadata as HTTP/2 header fields; a reserved name is the protocol's and is left out. */
  toHeaders(): OutgoingHttpHeaders {
    const headers: OutgoingHttpHeaders = {};
    for (const [key, values] of this.entries) {
      if (RESERVED.has(key)) continue;
      const texts = values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
      headers[key] = texts.length === 1 ? texts[0] : texts;
    }
    return headers;
  }

  /**
   * The metadata of received header fields: pseudo-headers and the protocol's own left out,
   * `-bin` values decoded (several may come comma-joined), a field with an illegal name or
   * value (a hostile peer) dropped rather than trusted.
   */
  static fromHeaders(headers: IncomingHttpHeaders): CallMetadata {
    const metadata = new CallMetadata();
    for (const [key, raw] of Object.entries(headers)) {
      if (key.startsWith(':') || RESERVED.has(key) || raw === undefined) continue;
      const texts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (key.endsWith('-bin') ? v.split(',') : [v]));
      for (const text of texts) {
        try {
          metadata.add(key, key.endsWith('-bin') ? Buffer.from(text.trim(), 'base64') : text);
        } catch {
          // Not metadata this side can represent: the field is ignored.
        }
      }
    }
    return metadata;
  }
}
