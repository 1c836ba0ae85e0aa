/**
 * The key worker thread's entry (built to dist/backend/key-decrypt-worker.cjs; run from source
 * through tsx under tests): decrypts the private keys it is sent, one at a time, so that
 * bcrypt_pbkdf (plain JavaScript in ssh2, seconds for a key at the rounds cap) never holds
 * the backend's event loop. It only ever receives keys whose rounds were checked against the
 * cap on the main thread (key-decrypt-pool.ts). It logs nothing: what it holds is a secret.
 */
import { parentPort } from 'node:worker_threads';
import { decryptKeyText } from './decrypt-key-text';

parentPort?.postMessage({ ready: true });
parentPort?.on('message', (message: { id: number; text: string; passphrase: string }) => {
  try {
    parentPort!.postMessage({ id: message.id, outcome: decryptKeyText(message.text, message.passphrase) });
  } catch (error) {
    // A fault of this code or of ssh2, never the key's text: the message cannot quote it.
    parentPort!.postMessage({ id: message.id, fault: error instanceof Error ? error.message : 'unknown fault' });
  }
});
