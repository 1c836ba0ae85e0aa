import { ApiError, RoleSchema, type ApiClient, type OperatorAttributes, type OperatorListEntry, type Role } from '../../contract';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';
import { secretsFromPromptOrStdin } from './read-secret-input';

export const OPERATOR_COMMANDS = ['list', 'add', 'set', 'remove'];

export interface OperatorsCommandContext {
  command: string;
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai operators list|add|set|remove` (issue 14): the people this control center knows.
 * Passwords are typed at a prompt that does not echo them, or piped in on standard input
 * (after the --as operator's own, when --as is given); never on the command line.
 */
export async function runOperatorsCommand(ctx: OperatorsCommandContext): Promise<number> {
  const expected = ctx.command === 'list' ? 0 : 1;
  if (ctx.args.length !== expected)
    throw new ApiError(
      'BAD_PARAMS',
      `\`operators ${ctx.command}\` takes ${expected === 0 ? 'no arguments' : "one operator's name"} (got ${ctx.args.length}).`,
      'Run `sutazai help` for the operators commands.',
    );
  // Signed in first (--as), so the sign-in's password is the first line of standard input.
  const api = await ctx.api();
  const name = ctx.args[0]!;
  switch (ctx.command) {
    case 'list': {
      const operators = await api.call('operators.list', {});
      ctx.print(
        operators.length === 0 ? 'No operators: every command and window acts as the one admin.' : formatOperators(operators),
        operators,
      );
      return EXIT.OK;
    }
    case 'add': {
      const role = roleOption(ctx.values.role);
      if (role === undefined)
        throw new ApiError('BAD_PARAMS', '`operators add` needs --role viewer|operator|admin.', "Add --role with the operator's role.");
      const password = await newPassword(name);
      const added = await api.call('operators.add', { name, role, password, attributes: attributesFrom(ctx.values, {}) });
      ctx.print(`Operator ${added.name} added as ${added.role}.`, added);
      return EXIT.OK;
    }
    case 'set': {
      const role = roleOption(ctx.values.role);
      const current = (await api.call('operators.list', {})).find((operator) => operator.name.toLowerCase() === name.toLowerCase());
      const attributes = current && hasAttributeOptions(ctx.values) ? attributesFrom(ctx.values, current.attributes) : undefined;
      const disabled = enabledOption(ctx.values);
      const password = ctx.values['reset-password'] === true ? await newPassword(name) : undefined;
      const changed = await api.call('operators.set', {
        name,
        ...(role !== undefined ? { role } : {}),
        ...(attributes !== undefined ? { attributes } : {}),
        ...(disabled !== undefined ? { disabled } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(ctx.values['clear-provider-subject'] === true ? { clearProviderSubject: true as const } : {}),
      });
      ctx.print(`Operator ${changed.name}: ${changed.role}${changed.disabled ? ', disabled' : ''}.`, changed);
      return EXIT.OK;
    }
    default: {
      const { removed } = await api.call('operators.remove', { name });
      ctx.print(`Operator ${removed} removed.`, { removed });
      return EXIT.OK;
    }
  }
}

/** An operator a configuration bundle brought in has no password yet: it cannot sign in until an admin sets one. */
function formatOperators(operators: OperatorListEntry[]): string {
  return formatTable(
    ['NAME', 'ROLE', 'STATE', 'PASSWORD', 'ATTRIBUTES'],
    operators.map((operator) => [
      operator.name,
      operator.role,
      operator.disabled ? 'disabled' : 'enabled',
      operator.passwordSet ? 'set' : 'none yet (set NAME --reset-password)',
      describeAttributes(operator.attributes),
    ]),
  );
}

export function describeAttributes(attributes: OperatorAttributes): string {
  const parts = [
    attributes.team !== undefined ? `team=${attributes.team}` : '',
    attributes.installs ? `installs=${attributes.installs.join(',')}` : '',
    attributes.hostLabels ? `host-labels=${attributes.hostLabels.join(',')}` : '',
    attributes.processes ? `processes=${attributes.processes.join(',')}` : '',
    attributes.hours !== undefined ? `hours=${attributes.hours}` : '',
  ];
  return parts.filter((part) => part !== '').join(' ') || '-';
}

/** A typed password is asked twice (a typo would lock the operator out); a piped one is taken as it is. */
export async function newPassword(name: string): Promise<string> {
  if (!process.stdin.isTTY) return (await secretsFromPromptOrStdin([`new password of ${name}`]))[0]!;
  const [first, again] = await secretsFromPromptOrStdin([`New password of ${name}`, 'The same again']);
  if (first !== again)
    throw new ApiError('BAD_PARAMS', 'The two passwords typed differ.', 'Run the command again and type the same password twice.');
  return first!;
}

function roleOption(value: unknown): Role | undefined {
  if (value === undefined) return undefined;
  const parsed = RoleSchema.safeParse(value);
  if (!parsed.success)
    throw new ApiError('BAD_PARAMS', `--role takes viewer, operator or admin (got "${String(value)}").`, 'Give one of the three roles.');
  return parsed.data;
}

function enabledOption(values: OperatorsCommandContext['values']): boolean | undefined {
  if (values.disable === true && values.enable === true)
    throw new ApiError('BAD_PARAMS', '--disable and --enable contradict each other.', 'Give one of them.');
  if (values.disable === true) return true;
  if (values.enable === true) return false;
  return undefined;
}

const ATTRIBUTE_OPTIONS = ['team', 'installs', 'host-labels', 'processes', 'hours'] as const;

function hasAttributeOptions(values: OperatorsCommandContext['values']): boolean {
  return ATTRIBUTE_OPTIONS.some((option) => typeof values[option] === 'string');
}

/**
 * The attributes after the options: each given one replaces the one it names, an empty one
 * (`--team ''`) removes it; lists are comma-separated. The backend checks them (BAD_PARAMS).
 */
function attributesFrom(values: OperatorsCommandContext['values'], base: OperatorAttributes): OperatorAttributes {
  const next: Record<string, string | string[] | undefined> = { ...base };
  const set = (key: keyof OperatorAttributes, option: (typeof ATTRIBUTE_OPTIONS)[number], list: boolean) => {
    const value = values[option];
    if (typeof value !== 'string') return;
    const text = value.trim();
    if (text === '') delete next[key];
    else
      next[key] = list
        ? text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '')
        : text;
  };
  set('team', 'team', false);
  set('installs', 'installs', true);
  set('hostLabels', 'host-labels', true);
  set('processes', 'processes', true);
  set('hours', 'hours', false);
  return next as OperatorAttributes;
}
