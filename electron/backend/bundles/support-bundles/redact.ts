import type { SupportRedaction, SupportRule } from '../../../contract';
import { BudgetExceeded, compileLinearRegex, PatternError, type WorkBudget } from '../../fleet/processes/linear-regex';
import { secretBlockLines } from './redaction-blocks';
import { ADDRESS_RULE, BUILT_IN_RULES, maskSecret, PRIVATE_KEY_BEGIN, PRIVATE_KEY_END, type PatternRule } from './redaction-rules';
import { supportRuleInvalidError, supportRuleTooCostlyError } from './support-errors';

/** A text to replace wherever it stands as a whole word: a secret from the vault, a host's name. */
export interface LiteralText {
  text: string;
  rule: string;
  /** Each distinct text gets its own numbered stand-in (`host-1`), the same in every file; else `[redacted:<rule>]`. */
  numbered?: string;
}

export interface RedactionPlan {
  patterns: readonly PatternRule[];
  literals: readonly LiteralText[];
  rules: readonly SupportRule[];
}

export interface RedactedFile {
  path: string;
  text: string;
  redactions: SupportRedaction[];
}

/** How much matching the operator's regular-expression rules may do over one bundle (as log search's budget). */
const RULE_BUDGET_STEPS = 200_000_000;
/** A vault secret shorter than this would replace ordinary words: such secrets are still never collected, only not searched for. */
const MIN_SECRET_LENGTH = 6;

interface Span {
  start: number;
  end: number;
  rule: string;
  replacement: (found: string) => string;
}

/**
 * The redactions of one bundle. Stand-ins are numbered across files in the order they are
 * met, so the same address is `ip-3` everywhere and the vendor can still follow it.
 */
export class Redactor {
  private readonly numbers = new Map<string, Map<string, string>>();
  private readonly budget: WorkBudget = { steps: RULE_BUDGET_STEPS };
  private readonly compiled: Array<{ rule: SupportRule; test: (line: string) => boolean }>;
  private readonly literals: LiteralText[];

  constructor(private readonly plan: RedactionPlan) {
    this.compiled = plan.rules.map((rule) => ({ rule, test: this.compileRule(rule) }));
    // Longer texts first, so a name that contains another is replaced whole.
    this.literals = plan.literals
      .filter((l) => l.text.length >= (l.numbered === undefined ? MIN_SECRET_LENGTH : 1))
      .sort((a, b) => b.text.length - a.text.length);
  }

  /**
   * The stand-in a name gets (a path part, the manifest's target, a version's host): the
   * name redacted as the text is, so a host or an address named there is the same `host-N`
   * or `ip-N` as in the files.
   */
  standIn(text: string): string {
    return this.redact('', text).text;
  }

  redact(path: string, text: string): RedactedFile {
    const spans = [
      ...this.patternSpans(text),
      ...this.blockSpans(text),
      ...this.orphanKeySpans(text),
      ...this.literalSpans(text),
      ...this.ruleSpans(text),
    ];
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const lineStarts = lineStartsOf(text);
    // In a JSON file a secret can run across strings (a key's lines as list items): only the strings' insides are replaced.
    // (A .json name on plain text, as the manifest's gaps are redacted under, is read as the text it is.)
    const strings = path.endsWith('.json') && /^\s*[[{"]/.test(text) ? jsonStringRanges(text) : null;
    const redactions: SupportRedaction[] = [];
    const out: string[] = [];
    let at = 0;
    for (const span of spans) {
      if (span.end <= at) continue;
      // A span that starts inside the one before and goes on past it: its rest is replaced too
      // (a secret is never left from where another replacement happened to end).
      const start = Math.max(span.start, at);
      const found = text.slice(start, span.end);
      const replacement = start === span.start ? span.replacement(found) : `[redacted:${shortName(span.rule)}]`;
      if (strings === null) {
        out.push(text.slice(at, start), replacement, '\n'.repeat(countNewlines(found)));
        at = span.end;
      } else {
        const pieces = piecesInStrings(text, strings, start, span.end);
        pieces.forEach((piece, i) => {
          out.push(text.slice(at, piece.start), i === 0 ? replacement : `[redacted:${shortName(span.rule)}]`);
          at = piece.end;
        });
        if (pieces.length === 0) continue;
      }
      redactions.push({ file: path, line: lineOf(lineStarts, start), rule: span.rule, masked: maskSecret(found), replacement });
    }
    out.push(text.slice(at));
    return { path, text: out.join(''), redactions };
  }

  /** Names and addresses ignore case (DNS, IPv6's hex): `Web01` and `web01` are one host. */
  private numbered(kind: string, text: string): string {
    let byText = this.numbers.get(kind);
    if (!byText) this.numbers.set(kind, (byText = new Map()));
    const key = text.toLowerCase();
    let name = byText.get(key);
    if (name === undefined) byText.set(key, (name = `${kind}-${byText.size + 1}`));
    return name;
  }

  private *patternSpans(text: string): Generator<Span> {
    for (const rule of this.plan.patterns) {
      const numbered = rule === ADDRESS_RULE ? 'ip' : null;
      const pattern = new RegExp(rule.pattern.source, `${rule.pattern.flags.replace('d', '')}d`);
      for (const match of text.matchAll(pattern)) {
        const group = rule.groups?.find((g) => match.indices?.[g] !== undefined);
        const [start, end] = group === undefined ? [match.index, match.index + match[0].length] : match.indices![group]!;
        if (end <= start) continue;
        yield {
          start,
          end,
          rule: rule.name,
          replacement: (found) => (numbered ? this.numbered(numbered, found) : `[redacted:${shortName(rule.name)}]`),
        };
      }
    }
  }

  /** The lines of a YAML block scalar under a secret's key (`password: |`), each its own redaction. */
  private *blockSpans(text: string): Generator<Span> {
    for (const line of secretBlockLines(text)) yield { ...line, rule: 'built-in:password', replacement: () => '[redacted:password]' };
  }

  /**
   * A private key's END line with no BEGIN before it (a log's tail, an event's last lines,
   * that start inside the key): the key material on the lines just before it goes too, line
   * by line (each line's base64, not what a log or JSON put around it), so a JSON file stays
   * JSON and every line keeps its place.
   */
  private *orphanKeySpans(text: string): Generator<Span> {
    const begins = [...text.matchAll(PRIVATE_KEY_BEGIN)].map((m) => m.index);
    let nextBegin = 0;
    let previousEnd = 0;
    const span = (start: number, end: number): Span => ({
      start,
      end,
      rule: 'built-in:private-key',
      replacement: () => '[redacted:private-key]',
    });
    for (const end of text.matchAll(PRIVATE_KEY_END)) {
      while (nextBegin < begins.length && begins[nextBegin]! < previousEnd) nextBegin++;
      const opened = nextBegin < begins.length && begins[nextBegin]! < end.index;
      previousEnd = end.index + end[0].length;
      if (opened) continue;
      yield span(end.index, previousEnd);
      // Back over the lines of key material: a base64 line (the last one may be short), a blank line, an encrypted key's headers.
      let lineEnd = text.lastIndexOf('\n', end.index - 1);
      for (let first = true; lineEnd >= 0; first = false) {
        const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
        const material = base64AtEnd(text, lineStart, lineEnd);
        if (material && (material.end - material.start >= 16 || first)) yield span(material.start, material.end);
        else if (!/^\s*$|Proc-Type:|DEK-Info:/.test(text.slice(lineStart, lineEnd))) break;
        lineEnd = lineStart - 1;
      }
    }
  }

  private *literalSpans(text: string): Generator<Span> {
    for (const literal of this.literals) {
      const numbered = literal.numbered;
      if (numbered === undefined) {
        for (let from = text.indexOf(literal.text); from !== -1; from = text.indexOf(literal.text, from + 1))
          yield {
            start: from,
            end: from + literal.text.length,
            rule: literal.rule,
            replacement: () => `[redacted:${shortName(literal.rule)}]`,
          };
        continue;
      }
      // Names ignore case; a name inside a longer word (host `b4` in `b44`) is not that name.
      for (const match of text.matchAll(caseless(literal.text))) {
        const end = match.index + match[0].length;
        if (isWordChar(text.charCodeAt(match.index - 1)) || isWordChar(text.charCodeAt(end))) continue;
        yield { start: match.index, end, rule: literal.rule, replacement: (found) => this.numbered(numbered, found) };
      }
    }
  }

  private *ruleSpans(text: string): Generator<Span> {
    for (const { rule, test } of this.compiled) {
      const replacement = () => `[redacted:${rule.name}]`;
      if (!rule.regex) {
        // Matched in the text itself: a lower-cased copy can differ in length (İ), and its offsets would miss.
        if (rule.ignoreCase)
          for (const match of text.matchAll(caseless(rule.pattern)))
            yield { start: match.index, end: match.index + match[0].length, rule: rule.name, replacement };
        else
          for (let from = text.indexOf(rule.pattern); from !== -1; from = text.indexOf(rule.pattern, from + 1))
            yield { start: from, end: from + rule.pattern.length, rule: rule.name, replacement };
        continue;
      }
      // A matching line is replaced whole: the linear matcher says whether, not where.
      let start = 0;
      while (start <= text.length) {
        const newline = text.indexOf('\n', start);
        const end = newline === -1 ? text.length : newline;
        if (end > start && test(text.slice(start, end))) yield { start, end, rule: rule.name, replacement };
        start = end + 1;
      }
    }
  }

  private compileRule(rule: SupportRule): (line: string) => boolean {
    if (!rule.regex) return () => false;
    let compiled;
    try {
      compiled = compileLinearRegex(rule.pattern, { ignoreCase: rule.ignoreCase });
    } catch (error) {
      if (error instanceof PatternError) throw supportRuleInvalidError(rule.name, error.message);
      throw error;
    }
    return (line) => {
      try {
        return compiled.test(line, this.budget);
      } catch (error) {
        if (error instanceof BudgetExceeded) throw supportRuleTooCostlyError(rule.name);
        throw error;
      }
    };
  }
}

/** The plan for a bundle: the built-in rules always, the optional ones when chosen, the operator's rules last. */
export function redactionPlan(options: {
  addresses: boolean;
  hostNames: readonly string[] | null;
  vaultSecrets: readonly string[];
  rules: readonly SupportRule[];
}): RedactionPlan {
  return {
    patterns: options.addresses ? [...BUILT_IN_RULES, ADDRESS_RULE] : BUILT_IN_RULES,
    literals: [
      ...options.vaultSecrets.flatMap(writtenForms).map((text) => ({ text, rule: 'built-in:vault' })),
      ...(options.hostNames ?? []).map((text) => ({ text, rule: 'host-names', numbered: 'host' })),
    ],
    rules: options.rules,
  };
}

/**
 * The base64 run a line ends with (before a JSON string's closing quote and comma), found
 * from the line's end so a long line costs its length once.
 */
function base64AtEnd(text: string, lineStart: number, lineEnd: number): { start: number; end: number } | null {
  let end = lineEnd;
  while (end > lineStart && /[\s"',\]]/.test(text[end - 1]!)) end--;
  let start = end;
  while (start > lineStart && text[start - 1] === '=' && end - start < 2) start--;
  while (start > lineStart && /[A-Za-z0-9+/]/.test(text[start - 1]!)) start--;
  // Where it starts: the line's start or after a space or a quote (a log's prefix, JSON's indentation).
  if (start > lineStart && !/[\s"']/.test(text[start - 1]!)) return null;
  return end - start >= 2 ? { start, end } : null;
}

/**
 * A secret as the bundle's files may hold it: as is (a log), as a JSON string's inside (an
 * event's last lines: `"` and `\\` escaped), percent-encoded (a URL's credentials).
 */
function writtenForms(secret: string): string[] {
  return [...new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])];
}

/** A plain text matched ignoring case: escaped, so nothing in it is a pattern (and nothing can backtrack). */
function caseless(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu');
}

function shortName(rule: string): string {
  return rule.replace(/^built-in:/, '');
}

function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 45 || code === 95;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

/**
 * The insides of a JSON text's strings (keys and values), each [start, end) without its
 * quotes, in order. The text is the collector's own JSON.stringify output, so it is well
 * formed; a stray quote would only make the ranges coarser, never unsafe.
 */
function jsonStringRanges(text: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    const start = i + 1;
    let j = start;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    ranges.push([start, Math.min(j, text.length)]);
    i = j;
  }
  return ranges;
}

/** The longest JSON escape (`\u00e9`): how far back a cut can fall inside one. */
const LONGEST_ESCAPE = 6;

/**
 * Where a cut at `at` in a JSON string's inside (which starts at `from`) must go so that it
 * splits no escape: `at` itself when it falls between escapes, else the start of the escape it
 * falls in. A backslash escapes only when an odd run of them ends at it, so a cut just after
 * `\"` (a JSON document quoted in the string, whose value starts there) stays where it is.
 */
function escapeStartAround(text: string, from: number, at: number): number {
  for (let back = 1; back < LONGEST_ESCAPE && at - back >= from; back++) {
    const slash = at - back;
    if (text[slash] !== '\\') continue;
    let run = 1;
    while (slash - run >= from && text[slash - run] === '\\') run++;
    if (run % 2 === 0) continue;
    const length = text[slash + 1] === 'u' ? LONGEST_ESCAPE : 2;
    if (back < length) return slash;
  }
  return at;
}

/**
 * The parts of [start, end) inside JSON strings: what lies between them (quotes, commas, a
 * list's line breaks and indentation) is left, so the file stays JSON and every line keeps
 * its place. A cut that would split an escape goes to the string's own edge instead.
 */
function piecesInStrings(
  text: string,
  ranges: ReadonlyArray<[number, number]>,
  start: number,
  end: number,
): Array<{ start: number; end: number }> {
  let low = 0;
  let high = ranges.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (ranges[mid]![1] <= start) low = mid + 1;
    else high = mid;
  }
  const pieces: Array<{ start: number; end: number }> = [];
  for (let i = low; i < ranges.length && ranges[i]![0] < end; i++) {
    const [from, to] = ranges[i]!;
    let pieceStart = Math.max(from, start);
    let pieceEnd = Math.min(to, end);
    if (pieceEnd <= pieceStart) continue;
    pieceStart = escapeStartAround(text, from, pieceStart);
    // A cut inside an escape takes the string whole from there (the escape's own end could be the string's).
    if (pieceEnd < to && escapeStartAround(text, pieceStart, pieceEnd) !== pieceEnd) pieceEnd = to;
    pieces.push({ start: pieceStart, end: pieceEnd });
  }
  return pieces;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
