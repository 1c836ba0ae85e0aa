import { randomBytes } from 'node:crypto';

/**
 * A random 16-byte certificate serial, as hex. 128 random bits are well past the 64 the
 * CA/Browser Forum asks for, so two certificates of one CA never share a serial even
 * without a counter stored anywhere. The top bit is cleared (DER integers are signed;
 * a serial must be positive) and the first byte kept non-zero, so it stays 16 bytes.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}
