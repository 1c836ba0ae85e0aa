import type { SupportRedaction, SupportRule } from '../../../contract';
import { BudgetExceeded, compileLinearRegex, PatternError, type WorkBudget } from '../../fleet/processes/linear-regex';
import { ADDRESS_RULE, BUILT_IN_RULES, maskSecret, type PatternRule } from './redaction-rules';
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

  /** The stand-in a name gets (a path part, the manifest's target): the same the text gets. */
  standIn(text: string): string {
    const literal = this.literals.find((l) => l.numbered !== undefined && l.text === text);
    return literal ? this.numbered(literal.numbered!, text) : text;
  }

  redact(path: string, text: string): RedactedFile {
    const spans = [...this.patternSpans(text), ...this.literalSpans(text), ...this.ruleSpans(text)];
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const lineStarts = lineStartsOf(text);
    const redactions: SupportRedaction[] = [];
    const out: string[] = [];
    let at = 0;
    for (const span of spans) {
      if (span.start < at) continue;
      const found = text.slice(span.start, span.end);
      const replacement = span.replacement(found);
      out.push(text.slice(at, span.start), replacement, '\n'.repeat(countNewlines(found)));
      redactions.push({ file: path, line: lineOf(lineStarts, span.start), rule: span.rule, masked: maskSecret(found), replacement });
      at = span.end;
    }
    out.push(text.slice(at));
    return { path, text: out.join(''), redactions };
  }

  private numbered(kind: string, text: string): string {
    let byText = this.numbers.get(kind);
    if (!byText) this.numbers.set(kind, (byText = new Map()));
    let name = byText.get(text);
    if (name === undefined) byText.set(text, (name = `${kind}-${byText.size + 1}`));
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
          replacement: (found) => (numbered ? this.numbered(numbered, found.toLowerCase()) : `[redacted:${shortName(rule.name)}]`),
        };
      }
    }
  }

  private *literalSpans(text: string): Generator<Span> {
    for (const literal of this.literals) {
      for (let from = text.indexOf(literal.text); from !== -1; from = text.indexOf(literal.text, from + 1)) {
        const end = from + literal.text.length;
        // A name inside a longer word (host `b4` in `b44`) is not that name.
        if (literal.numbered !== undefined && (isWordChar(text.charCodeAt(from - 1)) || isWordChar(text.charCodeAt(end)))) continue;
        yield {
          start: from,
          end,
          rule: literal.rule,
          replacement: (found) =>
            literal.numbered !== undefined ? this.numbered(literal.numbered, found) : `[redacted:${shortName(literal.rule)}]`,
        };
      }
    }
  }

  private *ruleSpans(text: string): Generator<Span> {
    for (const { rule, test } of this.compiled) {
      const replacement = () => `[redacted:${rule.name}]`;
      if (!rule.regex) {
        const haystack = rule.ignoreCase ? text.toLowerCase() : text;
        const needle = rule.ignoreCase ? rule.pattern.toLowerCase() : rule.pattern;
        for (let from = haystack.indexOf(needle); from !== -1; from = haystack.indexOf(needle, from + 1))
          yield { start: from, end: from + needle.length, rule: rule.name, replacement };
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
      ...options.vaultSecrets.map((text) => ({ text, rule: 'built-in:vault' })),
      ...(options.hostNames ?? []).map((text) => ({ text, rule: 'host-names', numbered: 'host' })),
    ],
    rules: options.rules,
  };
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

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
