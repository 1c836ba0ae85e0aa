import fs from 'node:fs/promises';
import { loadPrivateKey, parsePrivateKeyText } from './load-private-key';
import type { HopLogin } from './open-ssh-hop';
import { agentUnavailableError } from './ssh-errors';
import type { SshEndpoint } from './ssh-endpoint';
import type { SshCredentials } from './ssh-target';

/**
 * Everything about a login that can fail without the network fails here, before any
 * connection: the key file is read and decrypted, the agent socket must exist. The
 * password is not read until ssh2 asks for it (after the host key was accepted).
 */
export async function prepareLogin(endpoint: SshEndpoint, user: string, credentials: SshCredentials): Promise<HopLogin> {
  switch (credentials.method) {
    case 'key': {
      const key = await loadPrivateKey(endpoint, credentials.keyPath, credentials.passphrase);
      return { user, method: 'key', authMethod: () => ({ type: 'publickey', username: user, key }) };
    }
    case 'keyText': {
      const key = await parsePrivateKeyText(endpoint, credentials.privateKey, credentials.passphrase);
      return { user, method: 'key', authMethod: () => ({ type: 'publickey', username: user, key }) };
    }
    case 'agent': {
      const agent = credentials.agentSocket ?? process.env.SSH_AUTH_SOCK;
      if (agent === undefined || agent === '') throw agentUnavailableError(endpoint, 'no agent socket is set (SSH_AUTH_SOCK is empty)');
      const isSocket = await fs.stat(agent).then(
        (stat) => stat.isSocket(),
        () => false,
      );
      if (!isSocket) throw agentUnavailableError(endpoint, `there is no agent listening at ${agent}`);
      return { user, method: 'agent', authMethod: () => ({ type: 'agent', username: user, agent }) };
    }
    case 'password':
      return { user, method: 'password', authMethod: () => ({ type: 'password', username: user, password: credentials.password }) };
  }
}
