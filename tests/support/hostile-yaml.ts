/**
 * YAML that attacks its reader: each text is small or in-limit as bytes go, and today's
 * yaml library alone either runs out of memory, overflows the stack or takes seconds on it.
 */

/** Five lines that expand to 10^6 list items ("billion laughs"). */
export function aliasBomb(top = 'install'): string {
  const nine = (name: string) => Array.from({ length: 10 }, () => `*${name}`).join(', ');
  return [
    `a: &a [x, x, x, x, x, x, x, x, x, x]`,
    `b: &b [${nine('a')}]`,
    `c: &c [${nine('b')}]`,
    `d: &d [${nine('c')}]`,
    `e: &e [${nine('d')}]`,
    `${top}: &f [${nine('e')}]`,
    '',
  ].join('\n');
}

/** `count` keys under one map (the library's duplicate-key check compares each with every other). */
export function manyKeys(count = 20_000, under = 'install'): string {
  return `${under}:\n${Array.from({ length: count }, (_, i) => `  k${i}: 0\n`).join('')}`;
}

/** Lists nested `depth` deep in flow style. */
export function deepNesting(depth = 5_000, under = 'install'): string {
  return `${under}: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}
