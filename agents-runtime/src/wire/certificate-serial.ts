/**
 * A certificate serial as lower-case hex without leading zeros, however it was written: the
 * one form the runtime compares revoked serials in and the control center records them in.
 */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/[:\s]/g, '').toLowerCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}
