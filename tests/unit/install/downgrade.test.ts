import { describe, expect, it } from 'vitest';
import { compareReleases, downgradeRefusedError, releasesNewerThan } from '../../../electron/backend/install/engine/downgrade';

describe('what makes a bundle a downgrade', () => {
  it('compares releases by semantic version precedence, not text', () => {
    expect(compareReleases('0.10.0', '0.9.0')).toBeGreaterThan(0);
    expect(compareReleases('1.0.0', '1.0.0-rc.2')).toBeGreaterThan(0);
    expect(compareReleases('1.0.0-rc.10', '1.0.0-rc.9')).toBeGreaterThan(0);
    expect(compareReleases('1.2.3', '1.2.3+build.7')).toBe(0);
  });

  it('names the releases hosts run that are newer than the bundle, oldest first, each once', () => {
    expect(releasesNewerThan(['1.1.0', null, '1.0.0', '1.2.0', '1.1.0', undefined], '1.0.0')).toEqual(['1.1.0', '1.2.0']);
    expect(releasesNewerThan(['1.0.0', '0.9.0'], '1.0.0')).toEqual([]);
    // A release candidate is older than its release: going to it from the release is a downgrade.
    expect(releasesNewerThan(['2.0.0'], '2.0.0-rc.1')).toEqual(['2.0.0']);
  });

  it('refuses with what it would replace and each way to ask for it by name', () => {
    const error = downgradeRefusedError('lab', 'sutazai@1.0.0', ['1.1.0', '1.2.0']);
    expect(error.code).toBe('INSTALL_DOWNGRADE_REFUSED');
    expect(error.message).toBe(
      'sutazai@1.0.0 is older than 1.1.0 and 1.2.0, which lab runs: installing it is a downgrade, and a downgrade is only done when asked for by name; nothing was changed.',
    );
    expect(error.remedy).toContain('roll back instead');
    expect(error.remedy).toContain('sutazai apply --allow-downgrade');
    expect(error.remedy).toContain('allowDowngrade: true');
    expect(error.remedy).toContain('"Downgrade to 1.0.0" on the Installs page');
  });
});
