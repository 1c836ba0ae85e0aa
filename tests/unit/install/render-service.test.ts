// What the service and start steps run, pinned: the unit made from the bundle's and the
// commands of both modes. Both run for real in tests/integration/install (the systemd path
// in systemd-service.test.ts, on a test host whose PID 1 is systemd).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { installLayout, SYSTEMD_UNIT_PATH } from '../../../electron/backend/install/definition/install-layout';
import { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from '../../../agents-runtime/src/wire';
import {
  EXEC_STOP_GUARD,
  quoteArg,
  renderDetachedStartScript,
  renderDetachedStopScript,
  renderSystemdUnit,
  systemdInstallCommands,
  systemdStartCommands,
} from '../../../electron/backend/install/render/render-service';
import { startRuntimeScript } from '../../../electron/backend/install/steps/start-runtime';

const root = path.resolve(__dirname, '../../..');
const bundleUnit = fs.readFileSync(path.join(root, 'agents-runtime/systemd/sutazai-runtime.service'), 'utf8');
const config = loadInstallConfig().config;
const layout = installLayout(config, 'system', '/root');
const release = layout.release('0.2.0');

describe('the systemd unit', () => {
  const unit = renderSystemdUnit(bundleUnit, release, 'lab');

  it("is the bundle's unit, its commands pointed at the release", () => {
    const lines = unit.split('\n');
    expect(lines.filter((l) => l.startsWith('ExecStart='))).toEqual([
      'ExecStart=/opt/sutazai/releases/0.2.0/runtime/node --lite-mode --no-expose-wasm /opt/sutazai/releases/0.2.0/runtime/sutazai-runtime.cjs run --config /opt/sutazai/releases/0.2.0/etc/runtime.yaml',
    ]);
    // stop-all only while the daemon runs: after it exited by itself, its processes stay for the next one to re-adopt.
    expect(lines.filter((l) => l.startsWith('ExecStop='))).toEqual([
      `ExecStop=/bin/sh -c '${EXEC_STOP_GUARD}' sutazai-runtime-stop /opt/sutazai/releases/0.2.0/runtime/node /opt/sutazai/releases/0.2.0/runtime/sutazai-runtime.cjs stop-all --config /opt/sutazai/releases/0.2.0/etc/runtime.yaml`,
    ]);
    expect(EXEC_STOP_GUARD).toBe(
      '[ -z "$$EXIT_CODE" ] || { echo "sutazai-runtime exited ($$EXIT_CODE $$EXIT_STATUS): its processes keep running for the next daemon to re-adopt"; exit 0; }; exec "$$@"',
    );
    // What makes a daemon restart keep the children, and the rest of the bundle's choices, stay.
    for (const kept of ['KillMode=process', 'Restart=always', 'TimeoutStopSec=120', 'WantedBy=multi-user.target', '[Service]'])
      expect(lines).toContain(kept);
    // The launch environment of agents-runtime/src/wire/launch-env.ts (the detached script sets it too).
    for (const [key, value] of Object.entries(RUNTIME_LAUNCH_ENV)) expect(lines).toContain(`Environment=${key}=${value}`);
    for (const [key, value] of Object.entries(RUNTIME_LAUNCH_ENV))
      expect(renderDetachedStartScript(layout, release, 'lab')).toContain(`export ${key}='${value}'`);
    // And Node's flags (RUNTIME_NODE_FLAGS), in both launchers, before the bundle.
    expect(bundleUnit).toContain(
      `ExecStart=/opt/sutazai/runtime/node ${RUNTIME_NODE_FLAGS.join(' ')} /opt/sutazai/runtime/sutazai-runtime.cjs run`,
    );
    expect(renderDetachedStartScript(layout, release, 'lab')).toContain(
      `nohup '/opt/sutazai/releases/0.2.0/runtime/node' ${RUNTIME_NODE_FLAGS.map((f) => `'${f}'`).join(' ')} '/opt/sutazai/releases/0.2.0/runtime/sutazai-runtime.cjs' run`,
    );
    // state_dir and log_dir are the install's to make (and record), wherever they are.
    expect(unit).not.toMatch(/^(StateDirectory|LogsDirectory)=/m);
    expect(lines[0]).toBe('# Installed by the SutazAI control center for install lab, release 0.2.0.');
  });

  it('quotes a release path with a space the way systemd reads it', () => {
    const spaced = installLayout(
      loadInstallConfig({ install: [{ name: 'i.yaml', text: 'install: { root_dir: "/srv/sutazai one" }\n' }] }).config,
      'system',
      '/root',
    );
    expect(renderSystemdUnit(bundleUnit, spaced.release('0.2.0'), 'lab')).toContain(
      'ExecStart="/srv/sutazai one/releases/0.2.0/runtime/node" --lite-mode --no-expose-wasm "/srv/sutazai one/releases/0.2.0/runtime/sutazai-runtime.cjs" run --config',
    );
  });

  it('carries no value systemd would expand or read as another directive', () => {
    expect(quoteArg('/srv/a%h/$HOME b')).toBe('"/srv/a%%h/$$HOME b"');
    expect(quoteArg('/srv/plain')).toBe('/srv/plain');
    expect(() => quoteArg('/srv/x\nExecStartPre=/bin/id')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('is installed by a rename into /etc/systemd/system, then daemon-reload and enable (not started yet)', () => {
    const commands = systemdInstallCommands('/opt/sutazai/staging/unit-1/sutazai-runtime.service');
    expect(SYSTEMD_UNIT_PATH).toBe('/etc/systemd/system/sutazai-runtime.service');
    expect(commands.text.split('\n')).toEqual([
      "tmp='/etc/systemd/system/sutazai-runtime.service.sutazai-new'",
      "[ -f '/etc/systemd/system/sutazai-runtime.service' ] || created '/etc/systemd/system/sutazai-runtime.service'",
      `cp '/opt/sutazai/staging/unit-1/sutazai-runtime.service' "$tmp"`,
      'chmod 0644 "$tmp"',
      `mv -f "$tmp" '/etc/systemd/system/sutazai-runtime.service'`,
      "rm -f '/opt/sutazai/staging/unit-1/sutazai-runtime.service'",
      "systemctl daemon-reload && systemctl enable 'sutazai-runtime.service'",
    ]);
  });

  it('is started with enable --now, or restarted when a runtime of another release or configuration runs', () => {
    expect(systemdStartCommands(false).text).toBe("systemctl daemon-reload && systemctl enable --now 'sutazai-runtime.service'");
    expect(systemdStartCommands(true).text).toBe("systemctl daemon-reload && systemctl restart 'sutazai-runtime.service'");
    const start = startRuntimeScript({ layout, release, service: 'systemd', running: null }).text;
    expect(start).toContain("\nsystemctl daemon-reload && systemctl enable --now 'sutazai-runtime.service'\n");
    // The new daemon is known by the kernel's path of its binary, never by its command line.
    expect(start).toContain("want=$(readlink -f '/opt/sutazai/releases/0.2.0/runtime/node')");
    expect(start).not.toContain('cmdline');
    expect(start).toContain('systemctl status --no-pager sutazai-runtime.service >&2');
    expect(startRuntimeScript({ layout, release, service: 'systemd', running: layout.release('0.1.0') }).text).toContain(
      "systemctl restart 'sutazai-runtime.service'",
    );
  });
});

describe('detached mode', () => {
  it('starts the daemon in its own session, with no terminal and its output in log_dir, once', () => {
    const script = renderDetachedStartScript(layout, release, 'lab');
    expect(script).toContain(
      "$detach nohup '/opt/sutazai/releases/0.2.0/runtime/node' '--lite-mode' '--no-expose-wasm' '/opt/sutazai/releases/0.2.0/runtime/sutazai-runtime.cjs' run --config '/opt/sutazai/releases/0.2.0/etc/runtime.yaml' >>'/var/log/sutazai/sutazai-runtime.out' 2>&1 </dev/null &",
    );
    expect(script).toContain('if command -v setsid >/dev/null 2>&1; then detach=setsid; fi');
    expect(script).toContain("lock='/var/lib/sutazai-runtime/sutazai-runtime.lock'");
    expect(renderDetachedStopScript(release, 'lab')).toContain(
      "exec '/opt/sutazai/releases/0.2.0/runtime/node' '/opt/sutazai/releases/0.2.0/runtime/sutazai-runtime.cjs' stop-all --config '/opt/sutazai/releases/0.2.0/etc/runtime.yaml'",
    );
  });

  it("stops a runtime of another release with that release's own stop-all before starting", () => {
    const script = startRuntimeScript({ layout, release, service: 'detached', running: layout.release('0.1.0') }).text;
    const stop = script.indexOf('"$old/runtime/node" "$old/runtime/sutazai-runtime.cjs" stop-all');
    const start = script.indexOf("sh '/opt/sutazai/bin/sutazai-runtime-start'");
    expect(script).toContain("old='/opt/sutazai/releases/0.1.0'");
    expect(stop).toBeGreaterThan(0);
    expect(start).toBeGreaterThan(stop);
  });
});
