import type { InstallConfig } from '../../config/install-config-schema';
import type { InstallMode } from '../../store/installs-repo';

/**
 * Where an install lives on a host. One tree per install root, so that a rollback is a
 * switch of `current` plus a restart, and uninstall removes what the install recorded:
 *
 *   <root>/releases/<version>/          the unpacked bundle, never changed after it is complete
 *          runtime/node -> ../node/<arch>/node
 *          etc/runtime.yaml, etc/manifest.yaml, etc/tls/{ca.pem,runtime.pem,runtime.key}
 *          .sutazai-release                the bundle's SHA-256: this directory is complete
 *   <root>/current -> releases/<version> the release that passed its health check
 *   <root>/staging/                      uploads in progress (owned by the login user)
 *   <root>/bin/sutazai-runtime-start|stop  detached mode only
 *   <config_dir>/runtime.yaml -> <root>/current/etc/runtime.yaml
 *   <state_dir>/, <log_dir>/             the runtime's state and logs (kept across releases)
 *
 * A system-wide install uses install.root_dir, config_dir, state_dir and log_dir; a
 * per-user one (no root, no sudo) keeps everything under install.user_dir.
 */
export interface InstallLayout {
  mode: InstallMode;
  root: string;
  releases: string;
  current: string;
  staging: string;
  bin: string;
  configDir: string;
  stateDir: string;
  logDir: string;
  /** The documented place of the runtime's config: a link into the current release. */
  configLink: string;
  release(version: string): ReleaseLayout;
}

export interface ReleaseLayout {
  version: string;
  dir: string;
  runtimeDir: string;
  node: string;
  daemon: string;
  etc: string;
  runtimeConfig: string;
  manifest: string;
  tlsDir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Written last by the unpack step: the bundle's SHA-256. */
  marker: string;
  /** Written last by the configure step: the digest of what it wrote. */
  configDigest: string;
}

export const SYSTEMD_UNIT_NAME = 'sutazai-runtime.service';
export const SYSTEMD_UNIT_PATH = `/etc/systemd/system/${SYSTEMD_UNIT_NAME}`;

/** `home` is the login user's $HOME, which a per-user `~/` path starts from. */
export function installLayout(config: InstallConfig, mode: InstallMode, home: string): InstallLayout {
  const root = mode === 'system' ? trimSlash(config.install.root_dir) : expandHome(config.install.user_dir, home);
  const configDir = mode === 'system' ? trimSlash(config.install.config_dir) : `${root}/etc`;
  const layout: Omit<InstallLayout, 'release'> = {
    mode,
    root,
    releases: `${root}/releases`,
    current: `${root}/current`,
    staging: `${root}/staging`,
    bin: `${root}/bin`,
    configDir,
    stateDir: mode === 'system' ? trimSlash(config.install.state_dir) : `${root}/state`,
    logDir: mode === 'system' ? trimSlash(config.install.log_dir) : `${root}/log`,
    configLink: `${configDir}/runtime.yaml`,
  };
  return {
    ...layout,
    release(version) {
      const dir = `${layout.releases}/${version}`;
      const etc = `${dir}/etc`;
      const tlsDir = `${etc}/tls`;
      return {
        version,
        dir,
        runtimeDir: `${dir}/runtime`,
        node: `${dir}/runtime/node`,
        daemon: `${dir}/runtime/sutazai-runtime.cjs`,
        etc,
        runtimeConfig: `${etc}/runtime.yaml`,
        manifest: `${etc}/manifest.yaml`,
        tlsDir,
        caCert: `${tlsDir}/ca.pem`,
        serverCert: `${tlsDir}/runtime.pem`,
        serverKey: `${tlsDir}/runtime.key`,
        marker: `${dir}/.sutazai-release`,
        configDigest: `${etc}/.digest`,
      };
    },
  };
}

/**
 * The layout of a host as an earlier apply placed it: its merged configuration as stored,
 * and the root it decided (for a per-user install, already expanded from ~/), so a rollback
 * or an uninstall finds the same place without planning again.
 */
export function recordedLayout(config: InstallConfig, mode: InstallMode, rootDir: string): InstallLayout {
  return installLayout({ ...config, install: { ...config.install, root_dir: rootDir, user_dir: rootDir } }, mode, '/');
}

export function expandHome(dir: string, home: string): string {
  if (dir === '~') return trimSlash(home);
  return trimSlash(dir.startsWith('~/') ? `${trimSlash(home)}/${dir.slice(2)}` : dir);
}

function trimSlash(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
}

/** Node's name for the machine, as bundles name their artifacts, from `uname -m`. */
export function bundleArchitecture(unameMachine: string): 'linux-x64' | 'linux-arm64' | null {
  if (unameMachine === 'x86_64' || unameMachine === 'amd64') return 'linux-x64';
  if (unameMachine === 'aarch64' || unameMachine === 'arm64') return 'linux-arm64';
  return null;
}
