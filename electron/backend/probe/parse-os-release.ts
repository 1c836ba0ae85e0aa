/**
 * A value from /etc/os-release as the shell would read it: "double quoted" (with \" \$
 * \` \\ escapes), 'single quoted', or bare.
 */
export function unquoteOsReleaseValue(raw: string): string {
  const value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** KEY=value lines (comments and blanks skipped) into a map of unquoted values. */
export function parseOsRelease(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) result.set(match[1]!, unquoteOsReleaseValue(match[2]!));
  }
  return result;
}

/** uname -m in Node's words (os.arch()), which the local probe and requirement profiles use. */
export function nodeArchFromMachine(machine: string): string {
  const m = machine.trim();
  if (m === 'x86_64' || m === 'amd64') return 'x64';
  if (m === 'aarch64' || m === 'arm64') return 'arm64';
  if (/^i[3-6]86$/.test(m)) return 'ia32';
  if (/^armv[5-8]/.test(m)) return 'arm';
  if (m === 'ppc64le' || m === 'ppc64') return 'ppc64';
  if (m === 'loongarch64') return 'loong64';
  if (m === 'mips64' || m === 'mips64el') return 'mips64el';
  return m; // s390x, riscv64, ppc are the same in both
}
