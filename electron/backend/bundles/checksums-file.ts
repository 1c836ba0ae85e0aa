/**
 * checksums.sha256 in the format `sha256sum` writes and `sha256sum -c` checks: one line per
 * file, 64 lower-case hex digits, two spaces, the path, sorted by path. Unpacked, a bundle
 * can be checked with nothing but coreutils.
 */

export interface FileChecksum {
  path: string;
  sha256: string;
}

const LINE = /^([0-9a-f]{64}) {2}(\S(?:.*\S)?)$/;

export function formatChecksums(files: readonly FileChecksum[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => `${file.sha256}  ${file.path}\n`)
    .join('');
}

/** The checksum of each path, or the reason the text is not a checksums file. */
export function parseChecksums(text: string): { ok: true; files: Map<string, string> } | { ok: false; reason: string } {
  const files = new Map<string, string>();
  if (!text.endsWith('\n')) return { ok: false, reason: 'it does not end with a newline' };
  const lines = text.slice(0, -1).split('\n');
  for (const [index, line] of lines.entries()) {
    const match = LINE.exec(line);
    if (!match) return { ok: false, reason: `line ${index + 1} is not "<sha256>  <path>"` };
    const [, sha256, path] = match as unknown as [string, string, string];
    if (files.has(path)) return { ok: false, reason: `line ${index + 1} lists ${path} a second time` };
    files.set(path, sha256);
  }
  return { ok: true, files };
}
