import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { findElectronBinary, missingElectronMessage } from '../../../scripts/start.mjs';

const find = findElectronBinary as (options: { dir: string; env: Record<string, string>; platform: string }) => string | null;
const message = missingElectronMessage as (version: string) => string;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sutazai-electron-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('finding the Electron binary', () => {
  it('reports it missing on a checkout where only the npm package is installed', () => {
    expect(find({ dir, env: {}, platform: 'linux' })).toBeNull();
  });

  it('reports it missing when path.txt names a binary that is not there', () => {
    writeFileSync(path.join(dir, 'path.txt'), 'electron');
    expect(find({ dir, env: {}, platform: 'linux' })).toBeNull();
  });

  it('finds the binary that path.txt names below dist/', () => {
    writeFileSync(path.join(dir, 'path.txt'), 'electron');
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist', 'electron'), '');
    expect(find({ dir, env: {}, platform: 'linux' })).toBe(path.join(dir, 'dist', 'electron'));
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH like the electron package does', () => {
    const override = path.join(dir, 'unpacked');
    mkdirSync(override);
    writeFileSync(path.join(override, 'electron'), '');
    expect(find({ dir, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'linux' })).toBe(path.join(override, 'electron'));
    expect(find({ dir, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'win32' })).toBeNull();
  });
});

describe('the missing-Electron message', () => {
  it('says what happened and offers the browser and an online machine as ways forward', () => {
    const text = message('45.5.0');
    expect(text).toContain('Electron 45.5.0 binary is not installed');
    expect(text).toContain('npm run web');
    expect(text).toContain('machine that can download Electron');
    expect(text).toContain('ELECTRON_OVERRIDE_DIST_PATH');
  });
});
