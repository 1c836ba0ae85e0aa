import { ApiError } from '../../../contract';
import { keyTextRefusal } from '../../hosts/ssh/load-private-key';
import { secretName, type ConfigDocument, type ExportedSecrets } from './config-document';

/**
 * A host's private key in a bundle's secrets (`host/<name>/key`) is checked as a key pasted
 * into hosts.add is: at most 16 KiB, a private key ssh2 reads, and no decryption costlier than
 * a login allows (a key asking for billions of bcrypt rounds would hold the backend at its
 * first login). Checked when the secrets are opened, for the review and again for the import,
 * so a refusal names the file and the host and nothing is imported. Its passphrase is not
 * tried here: that is the login's work, under the same cap.
 */
export function checkBundleKeys(document: ConfigDocument, secrets: ExportedSecrets, file: string): void {
  for (const host of document.hosts) {
    // As the import reads it: only a key login without a key file takes a stored key.
    if (host.auth !== 'key' || host.keyPath !== null) continue;
    const name = secretName.hostKey(host.name);
    const text = secrets[name];
    if (text === undefined) continue;
    const refusal = keyTextRefusal(text);
    if (refusal !== null) throw bundleKeyInvalidError(file, host.name, name, refusal);
  }
}

function bundleKeyInvalidError(file: string, host: string, secret: string, refusal: { why: string; remedy: string }): ApiError {
  return new ApiError(
    'KEY_TEXT_INVALID',
    `The private key of host ${host} in the configuration bundle ${file} (secret ${secret}) ${refusal.why}. Nothing was imported.`,
    `On the control center that exported it, give the host a key this version accepts and export again, or import the bundle without its secrets and enter the key on the host afterwards. ${refusal.remedy}`,
  );
}
