import { ApiError, type Alert, type AlertChange, type AlertRuleError, type AlertRuleSummary, type AlertState } from '../../../contract';
import { createAlertEvaluator, type AlertEvaluator } from './alert-evaluator';
import type { AlertInputs } from './alert-inputs';
import { ruleSettings } from './alert-rule-schema';
import type { AlertsRepo, StoredAlert } from './alerts-repo';
import { loadAlertRules, type AlertRuleSet } from './load-alert-rules';
import { yamlFoldersSignature } from '../../config/yaml-folders';

export interface AlertServiceOptions {
  repo: AlertsRepo;
  inputs: AlertInputs;
  /** Rule folders, lowest first: the shipped config/alerts, then the operator's. */
  ruleFolders: readonly string[];
  clock: () => number;
  onChange: (change: AlertChange, alert: Alert) => void;
  logger: { warn(details: object, message: string): void; info(details: object, message: string): void };
  /** Resolved alerts are kept this long (default 30 days). */
  keepResolvedMs?: number;
  staleAfterMs?: number;
  /** How often a started service reads the store for changes other processes made (an acknowledgement from the CLI); default 1 s. */
  othersPollMs?: number;
}

export interface AlertListParams {
  states?: AlertState[] | undefined;
  hostId?: number | undefined;
  rule?: string | undefined;
  resolvedWithinMs: number;
  limit: number;
}

export interface AlertService {
  list(params: AlertListParams): Alert[];
  /** Records who acknowledged the alert and when; the first acknowledgement is kept. */
  acknowledge(id: number, actor: string): Alert;
  rules(): { rules: AlertRuleSummary[]; errors: AlertRuleError[] };
  /** Reads the rule files again when they changed, then evaluates every rule once. */
  evaluate(): void;
  /**
   * Evaluates every `intervalMs` until closed, and hands on (through onChange) the changes
   * other processes on the same data directory make, such as an acknowledgement from the CLI,
   * so that open windows hear of them as of this process's own.
   */
  start(intervalMs: number): void;
  close(): void;
}

const PRUNE_EVERY_MS = 3_600_000;
const OTHERS_BATCH = 200;

export function createAlertService(options: AlertServiceOptions): AlertService {
  const { repo, clock, logger } = options;
  const keepResolvedMs = options.keepResolvedMs ?? 30 * 86_400_000;
  let loaded: AlertRuleSet = { rules: [], errors: [] };
  let loadedSignature: string | undefined;
  let lastPruneMs = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  let othersTimer: NodeJS.Timeout | undefined;
  let failedBefore = new Set<string>();
  let failedNow = new Set<string>();

  // Re-read only when a file was added, removed or changed, so an operator's edit is picked up without a restart.
  const reloadIfChanged = (): void => {
    const signature = yamlFoldersSignature(options.ruleFolders);
    if (signature === loadedSignature) return;
    loaded = loadAlertRules(options.ruleFolders);
    // Only once loaded: a load that threw is tried again at the next evaluation.
    loadedSignature = signature;
    for (const error of loaded.errors) logger.warn({ code: error.code, remedy: error.remedy }, error.message);
    logger.info({ rules: loaded.rules.length, errors: loaded.errors.length }, 'alert rules loaded');
  };

  const evaluator: AlertEvaluator = createAlertEvaluator({
    repo,
    inputs: options.inputs,
    rules: () => loaded.rules,
    clock,
    ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
    onChange: (change, alert) => options.onChange(change, toAlert(alert)),
    onRuleFailed: (rule, error) => {
      failedNow.add(rule);
      // Once per run of failures, not once an evaluation.
      if (!failedBefore.has(rule))
        logger.warn({ rule, err: error }, 'an alert rule could not read its inputs; its alerts stay as they were');
    },
  });

  const service: AlertService = {
    list(params) {
      return repo
        .list({
          states: params.states,
          hostId: params.hostId,
          rule: params.rule,
          resolvedSinceMs: clock() - params.resolvedWithinMs,
          limit: params.limit,
        })
        .map(toAlert);
    },
    acknowledge(id, actor) {
      const outcome = repo.acknowledge(id, actor, clock());
      if (!outcome)
        throw new ApiError(
          'ALERT_NOT_FOUND',
          `There is no alert ${id}.`,
          'Pick an alert from the alerts list, which shows each one’s id; resolved alerts are kept 30 days.',
          { cliRemedy: 'Run `sutazai alerts` for the alerts and their ids; resolved alerts are kept 30 days.' },
        );
      const alert = toAlert(outcome.alert);
      if (outcome.changed) options.onChange('acknowledged', alert);
      return alert;
    },
    rules() {
      reloadIfChanged();
      return {
        rules: loaded.rules.map(({ spec, source }) => ({
          name: spec.name,
          kind: spec.kind,
          severity: spec.severity,
          forMs: spec.for,
          settings: ruleSettings(spec),
          labels: spec.labels,
          source,
        })),
        errors: [...loaded.errors],
      };
    },
    evaluate() {
      reloadIfChanged();
      failedNow = new Set();
      evaluator.evaluate();
      failedBefore = failedNow;
      const nowMs = clock();
      if (nowMs - lastPruneMs >= PRUNE_EVERY_MS) {
        lastPruneMs = nowMs;
        const pruned = repo.pruneResolved(nowMs - keepResolvedMs);
        if (pruned > 0) logger.info({ pruned }, 'resolved alerts past retention pruned');
      }
    },
    start(intervalMs) {
      if (timer) return;
      const tick = (): void => {
        try {
          service.evaluate();
        } catch (error) {
          logger.warn({ err: error }, 'alert evaluation failed; the next one runs on schedule');
        }
      };
      let othersReadUpTo = repo.watchOthers();
      const readOthers = (): void => {
        try {
          for (;;) {
            const { changes, readUpTo } = repo.changesByOthers(othersReadUpTo, OTHERS_BATCH);
            if (readUpTo === othersReadUpTo) return;
            othersReadUpTo = readUpTo;
            for (const { change, alert } of changes) options.onChange(change, toAlert(alert));
          }
        } catch (error) {
          logger.warn({ err: error }, 'reading alert changes made by other processes failed; read again shortly');
        }
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
      othersTimer = setInterval(readOthers, options.othersPollMs ?? 1000);
      othersTimer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
      if (othersTimer) clearInterval(othersTimer);
      timer = undefined;
      othersTimer = undefined;
    },
  };
  return service;
}

function toAlert({ fingerprint: _fingerprint, ...alert }: StoredAlert): Alert {
  return alert;
}
