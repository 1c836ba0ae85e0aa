/**
 * Semantic versions (semver.org 2.0.0) and the few range forms a bundle's compatibility
 * needs: comparators joined by spaces (all must hold) and alternatives joined by `||`,
 * e.g. ">=0.1.0 <0.2.0" or "1.2.3 || >=2.0.0", and "*" for any. Prereleases compare by
 * precedence (1.0.0-rc.1 < 1.0.0); unlike npm's semver they are not kept out of ranges.
 */

export interface Version {
  major: number;
  minor: number;
  patch: number;
  prerelease: Array<string | number>;
}

type Operator = '>=' | '<=' | '>' | '<' | '=';
interface Comparator {
  operator: Operator;
  version: Version;
}
/** Alternatives, each a list of comparators that must all hold; [] inside means "any". */
export type VersionRange = Comparator[][];

const NUMBER = '(0|[1-9]\\d*)';
const IDENT = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const VERSION = `${NUMBER}\\.${NUMBER}\\.${NUMBER}(?:-(${IDENT}(?:\\.${IDENT})*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?`;
const VERSION_RE = new RegExp(`^${VERSION}$`);
const COMPARATOR_RE = new RegExp(`^(>=|<=|>|<|=)?${VERSION}$`);

export function parseVersion(text: string): Version | null {
  const match = VERSION_RE.exec(text.trim());
  return match ? toVersion(match, 1) : null;
}

export function isVersion(text: string): boolean {
  return parseVersion(text) !== null;
}

/** Negative when a < b, zero when equal in precedence (build metadata is ignored), positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
  for (const key of ['major', 'minor', 'patch'] as const) if (a[key] !== b[key]) return a[key] - b[key];
  // A release outranks its prereleases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return b.prerelease.length - a.prerelease.length;
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i += 1) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    // Numeric identifiers rank below alphanumeric ones.
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Null when the text is not a range of the forms above. */
export function parseRange(text: string): VersionRange | null {
  const alternatives = text.split('||').map((part) => part.trim());
  const range: VersionRange = [];
  for (const alternative of alternatives) {
    if (alternative === '*') {
      range.push([]);
      continue;
    }
    if (alternative === '') return null;
    const comparators: Comparator[] = [];
    for (const token of alternative.split(/\s+/)) {
      const match = COMPARATOR_RE.exec(token);
      if (!match) return null;
      comparators.push({ operator: (match[1] as Operator | undefined) ?? '=', version: toVersion(match, 2) });
    }
    range.push(comparators);
  }
  return range;
}

export function isRange(text: string): boolean {
  return parseRange(text) !== null;
}

export function satisfies(version: Version, range: VersionRange): boolean {
  return range.some((comparators) => comparators.every(({ operator, version: bound }) => holds(operator, compareVersions(version, bound))));
}

/**
 * The versions that keep compatibility with `version` by semver's rule: the same major,
 * or for 0.x (where every minor may break) the same minor. 0.1.4 gives ">=0.1.0 <0.2.0".
 */
export function compatibleRange(version: Version): string {
  if (version.major > 0) return `>=${version.major}.0.0 <${version.major + 1}.0.0`;
  return `>=0.${version.minor}.0 <0.${version.minor + 1}.0`;
}

export function formatVersion(version: Version): string {
  return `${version.major}.${version.minor}.${version.patch}${version.prerelease.length ? `-${version.prerelease.join('.')}` : ''}`;
}

function holds(operator: Operator, order: number): boolean {
  switch (operator) {
    case '>=':
      return order >= 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '<':
      return order < 0;
    case '=':
      return order === 0;
  }
}

function toVersion(match: RegExpExecArray, first: number): Version {
  const pre = match[first + 3];
  return {
    major: Number(match[first]),
    minor: Number(match[first + 1]),
    patch: Number(match[first + 2]),
    prerelease: pre === undefined ? [] : pre.split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)),
  };
}
