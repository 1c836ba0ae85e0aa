import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFingerprint, rawPublicKey } from '../../../electron/backend/bundles/bundle-signature';
import {
  CONFIG_FILE_MAX_BYTES,
  configBundleBytes,
  readConfigFile,
} from '../../../electron/backend/bundles/config-bundles/config-bundle-file';
import { configDocumentToYaml, parseConfigDocument } from '../../../electron/backend/bundles/config-bundles/config-yaml';
import type { ConfigDocument } from '../../../electron/backend/bundles/config-bundles/config-document';
import { makeTempDir } from '../../support/temp-dir';

/** The .sutazai-config file on its own: what it refuses before any store is asked. */

const dir = makeTempDir('sutazai-config-file-');
afterAll(() => dir.remove());

const document: ConfigDocument = {
  sutazai_config: 1,
  hosts: [
    {
      name: 'db-1',
      address: '198.18.42.1',
      port: 22,
      user: 'ops',
      auth: 'agent',
      keyPath: null,
      jump: null,
      role: 'core',
      labels: ['rack=b4'],
      hostKey: null,
    },
  ],
  installs: [],
  bundleSigningKeys: [],
  siteFiles: [],
};

async function bundleFile(name: string, configText = configDocumentToYaml(document)): Promise<string> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = rawPublicKey(privateKey);
  const bytes = await configBundleBytes({
    configText,
    secretsText: null,
    scope: { install: null },
    exporter: { fingerprint: keyFingerprint(publicKey), publicKey, label: 'test' },
    privateKey,
  });
  const file = path.join(dir.path, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('configuration files', () => {
  it('reads back what it wrote, and YAML with sorted keys is stable', async () => {
    const file = await readConfigFile(await bundleFile('ok.sutazai-config'));
    expect(file.kind).toBe('bundle');
    expect(parseConfigDocument(file.configText, 'config.yaml')).toEqual(document);
    // The same content built with every mapping's keys in reverse order writes the same bytes.
    const reversed = (value: object) => Object.fromEntries(Object.entries(value).reverse());
    const shuffled = { ...reversed(document), hosts: document.hosts.map(reversed) } as unknown as ConfigDocument;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(document));
    expect(configDocumentToYaml(shuffled)).toBe(configDocumentToYaml(document));
  });

  it('refuses a file over the size limit before reading it', async () => {
    const file = path.join(dir.path, 'huge.sutazai-config');
    const handle = fs.openSync(file, 'w');
    fs.ftruncateSync(handle, CONFIG_FILE_MAX_BYTES + 1);
    fs.closeSync(handle);
    await expect(readConfigFile(file)).rejects.toMatchObject({ code: 'CONFIG_BUNDLE_TOO_LARGE' });
  });

  it('refuses a pipe, whose size says nothing of what it will send, without reading it', async () => {
    const fifo = path.join(dir.path, 'endless.sutazai-config');
    execFileSync('mkfifo', [fifo]);
    // A writer with more than the limit to send: read whole, it would be taken in first and judged after.
    const writer = spawn('sh', ['-c', `exec head -c ${CONFIG_FILE_MAX_BYTES + 1024 * 1024} /dev/zero > "$0"`, fifo], { stdio: 'ignore' });
    try {
      await expect(readConfigFile(fifo)).rejects.toMatchObject({
        code: 'CONFIG_BUNDLE_UNREADABLE',
        message: expect.stringContaining('pipe'),
      });
    } finally {
      writer.kill('SIGKILL');
    }
  });

  it('refuses an archive with a file no export writes, and one whose manifest is of a newer format', async () => {
    const good = fs.readFileSync(await bundleFile('renamed.sutazai-config'));
    // The first entry's name, manifest.json, renamed in its header (the header checksum is fixed up, so only the name is wrong).
    const renamed = Buffer.from(good);
    renamed.write('manifest.jsoX', 0, 'latin1');
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : renamed[i]!;
    renamed.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    fs.writeFileSync(path.join(dir.path, 'renamed.sutazai-config'), renamed);
    await expect(readConfigFile(path.join(dir.path, 'renamed.sutazai-config'))).rejects.toMatchObject({ code: 'CONFIG_BUNDLE_DAMAGED' });

    const newer = good.toString('latin1').replace('"format": 1', '"format": 2');
    fs.writeFileSync(path.join(dir.path, 'newer.sutazai-config'), Buffer.from(newer, 'latin1'));
    await expect(readConfigFile(path.join(dir.path, 'newer.sutazai-config'))).rejects.toMatchObject({ code: 'CONFIG_BUNDLE_FORMAT_NEWER' });
  });

  it('refuses host paths an uninstall would remove that are not plain absolute paths, at their line and column', () => {
    const install = {
      name: 'prod',
      bundle: { name: 'sutazai', version: '1.0.0', sha256: 'a'.repeat(64) },
      installFile: 'name: prod\n',
      configSnapshot: {},
      definition: null,
      caCert: 'PEM',
      hosts: [
        {
          host: 'db-1',
          role: 'core' as const,
          gpu: false,
          state: 'installed' as const,
          mode: 'system' as const,
          rootDir: '/opt/sutazai',
          service: 'systemd' as const,
          createdPaths: ['/opt/sutazai', '/opt/sutazai/releases/1.0.0'],
          config: {},
        },
      ],
    };
    const withHost = (host: Partial<(typeof install.hosts)[0]>) =>
      configDocumentToYaml({ ...document, installs: [{ ...install, hosts: [{ ...install.hosts[0]!, ...host }] }] });
    expect(parseConfigDocument(withHost({}), 'site.yaml').installs[0]!.hosts[0]!.createdPaths).toHaveLength(2);
    for (const createdPaths of [['/opt/sutazai/../../etc'], ['etc/passwd'], ['/'], ['/opt/$(reboot)']]) {
      expect(() => parseConfigDocument(withHost({ createdPaths }), 'site.yaml'), createdPaths[0]).toThrow(
        /site\.yaml:\d+:\d+: installs\.0\.hosts\.0\.createdPaths\.0/,
      );
    }
    expect(() => parseConfigDocument(withHost({ rootDir: '/opt/sutazai/../..' }), 'site.yaml')).toThrow(
      /site\.yaml:\d+:\d+: installs\.0\.hosts\.0\.rootDir/,
    );
  });

  it('names the line and column of a schema error, and an unknown key', () => {
    const text = configDocumentToYaml(document).replace('port: 22', 'port: 70000').replace('role: core', 'role: core\n    colour: red');
    expect(() => parseConfigDocument(text, 'site.yaml')).toThrow(/site\.yaml:\d+:\d+: hosts\.0/);
    // Each on its own, at its own line (the first error above could be either).
    const port = configDocumentToYaml(document).replace('port: 22', 'port: 70000');
    const portLine = port.split('\n').findIndex((l) => l.includes('port: 70000')) + 1;
    expect(() => parseConfigDocument(port, 'site.yaml')).toThrow(new RegExp(`site\\.yaml:${portLine}:\\d+: hosts\\.0\\.port`));
    const unknown = configDocumentToYaml(document).replace('role: core', 'role: core\n    colour: red');
    expect(() => parseConfigDocument(unknown, 'site.yaml')).toThrow(/site\.yaml:\d+:\d+: hosts\.0.*colour/);
  });
});
