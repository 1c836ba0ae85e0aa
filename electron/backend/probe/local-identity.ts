import { readFile } from 'node:fs/promises';
import fs from 'node:fs';
import si from 'systeminformation';
import type { ClockFacts, InitSystemFacts } from '../../contract';

async function firstLine(file: string): Promise<string> {
  return readFile(file, 'utf8').then(
    (text) => text.split('\n')[0]!.trim(),
    () => '',
  );
}

/** /etc/machine-id (or D-Bus's copy) on Linux; the OS's machine UUID elsewhere (IOPlatformUUID, MachineGuid). */
export async function readLocalMachineId(platform = process.platform): Promise<string | null> {
  if (platform === 'linux') {
    for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
      const id = (await firstLine(file)).toLowerCase();
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    }
    return null;
  }
  const uuid = await si.uuid().catch(() => null);
  return uuid?.os ? uuid.os.toLowerCase() : null;
}

/** PID 1 by name, with /run/systemd/system as systemd's own test (sd_booted). */
export async function readLocalInitSystem(platform = process.platform): Promise<InitSystemFacts | null> {
  if (platform === 'darwin') return { kind: 'other', pid1: 'launchd' };
  if (platform !== 'linux') return null;
  const pid1 = await firstLine('/proc/1/comm');
  if (pid1 === 'systemd' || fs.existsSync('/run/systemd/system')) return { kind: 'systemd', pid1 };
  if (pid1 === 'openrc-init' || fs.existsSync('/run/openrc')) return { kind: 'openrc', pid1 };
  return pid1 ? { kind: 'other', pid1 } : null;
}

export function localClock(epochMs: number): ClockFacts {
  return {
    epochMs,
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || null,
    utcOffsetMinutes: -new Date(epochMs).getTimezoneOffset(),
  };
}
