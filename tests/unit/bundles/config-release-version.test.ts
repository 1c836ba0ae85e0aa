// A host release in a configuration file (review of issue 15): its version names the release's
// directory on the host (<root>/releases/<version>, what a rollback switches to and a prune
// removes), so a version from a file is one plain name, never a path that leaves releases/.
import { describe, expect, it } from 'vitest';
import { ExportedReleaseSchema } from '../../../electron/backend/bundles/config-bundles/config-document';

const release = (version: string) => ({ version, bundleSha256: 'ab'.repeat(32), path: `/opt/sutazai/releases/x`, state: 'previous' });

describe('a release version read from a configuration file', () => {
  it('is accepted as the versions bundles carry', () => {
    for (const version of ['0.1.0', '1.2.3-rc.1+build.7', '2.0.0_local'])
      expect(ExportedReleaseSchema.safeParse(release(version)).success, version).toBe(true);
  });

  it('is refused where it is not one plain name of the releases folder', () => {
    for (const version of ['..', '.', '../../../etc', '0.1.0/../../x', '/etc', '-rf', '0.1.0\n', "0.1.0'$(id)", ' 0.1.0'])
      expect(ExportedReleaseSchema.safeParse(release(version)).success, JSON.stringify(version)).toBe(false);
  });
});
