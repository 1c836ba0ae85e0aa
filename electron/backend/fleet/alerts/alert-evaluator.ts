import type { AlertChange } from '../../../contract';
import { evaluateRule, type HoldingCondition, type RuleVerdict } from './alert-conditions';
import type { AlertInputs } from './alert-inputs';
import type { AlertRule } from './alert-rule-schema';
import type { AlertsRepo, StoredAlert } from './alerts-repo';

export interface AlertEvaluatorOptions {
  repo: AlertsRepo;
  inputs: AlertInputs;
  /** The rules loaded now (they may change between evaluations). */
  rules: () => readonly AlertRule[];
  clock: () => number;
  /** Called after the evaluation's changes are stored, in the order they happened. */
  onChange: (change: AlertChange, alert: StoredAlert) => void;
  /** A rule whose inputs failed to read: its open alerts stay as they are until it reads again. */
  onRuleFailed: (rule: string, error: unknown) => void;
  /** Default 2 minutes. */
  staleAfterMs?: number;
}

export interface AlertEvaluator {
  /** One evaluation of every rule at the clock's time (Prometheus's rule group tick). */
  evaluate(): void;
}

/**
 * Prometheus's alerting semantics over the store's open alerts: a condition that starts to
 * hold is a new pending alert (firing at once when `for:` is 0); pending becomes firing once
 * the condition has held for `for:`; a firing alert whose condition stops holding is
 * resolved, a pending one dropped. The open alerts live in the store, not in memory, so a
 * restarted backend carries on counting `for:` from where it was, and an acknowledgement
 * made by another process (the CLI) is seen.
 */
export function createAlertEvaluator(options: AlertEvaluatorOptions): AlertEvaluator {
  const { repo, inputs, clock } = options;
  const staleAfterMs = options.staleAfterMs ?? 120_000;

  return {
    evaluate() {
      const nowMs = clock();
      const rules = options.rules();
      // Read every rule's inputs before writing, so the transaction holds no reads of other parts.
      const holding = new Map<string, { rule: AlertRule; conditions: Map<string, HoldingCondition>; verdict: RuleVerdict } | 'failed'>();
      for (const rule of rules) {
        try {
          const verdict = evaluateRule(rule.spec, { inputs, nowMs, staleAfterMs });
          const conditions = new Map<string, HoldingCondition>();
          for (const condition of verdict.holding) conditions.set(fingerprintOf(rule.spec.name, condition.labels), condition);
          holding.set(rule.spec.name, { rule, conditions, verdict });
        } catch (error) {
          holding.set(rule.spec.name, 'failed');
          options.onRuleFailed(rule.spec.name, error);
        }
      }

      const ruleLabels = new Map(rules.map((rule) => [rule.spec.name, rule.spec.labels]));
      const changes: Array<[AlertChange, StoredAlert]> = [];
      repo.transaction(() => {
        const open = new Map(repo.open().map((alert) => [alert.fingerprint, alert]));
        for (const entry of holding.values()) {
          if (entry === 'failed') continue;
          const { rule, conditions } = entry;
          for (const [fingerprint, condition] of conditions) {
            const current = open.get(fingerprint);
            open.delete(fingerprint);
            if (current === undefined) {
              const state = rule.spec.for === 0 ? 'firing' : 'pending';
              const alert = repo.insert({
                rule: rule.spec.name,
                kind: rule.spec.kind,
                fingerprint,
                severity: rule.spec.severity,
                labels: { ...rule.spec.labels, ...condition.labels, alertname: rule.spec.name, severity: rule.spec.severity },
                summary: condition.summary,
                value: condition.value,
                hostId: condition.hostId,
                state,
                atMs: nowMs,
              });
              changes.push([state, alert]);
              continue;
            }
            repo.refresh(current.id, condition.value, condition.summary);
            if (current.state === 'pending' && nowMs - current.activeSinceMs >= rule.spec.for)
              changes.push(['firing', repo.advance(current.id, 'firing', nowMs, condition.value)]);
          }
        }
        // What is still open no longer holds, or its rule is gone. A rule that failed to read, or
        // that heard nothing of the alert's subject this time, leaves the alert as it is, unless
        // its host has left the fleet: nothing will ever report on it again.
        for (const alert of open.values()) {
          const entry = holding.get(alert.rule);
          const unheard = entry === 'failed' || (entry !== undefined && !entry.verdict.judged(alert));
          if (unheard && !hostLeft(alert, inputs, ruleLabels.get(alert.rule))) continue;
          if (alert.state === 'firing') changes.push(['resolved', repo.advance(alert.id, 'resolved', nowMs, null)]);
          else {
            repo.drop(alert.id);
            changes.push(['dropped', alert]);
          }
        }
      });
      for (const [change, alert] of changes) options.onChange(change, alert);
    },
  };
}

/**
 * Whether the host an alert is about has left the fleet since it was raised: deleted (the
 * store set its host_id to null), or no longer in the install its labels name (uninstalled, or
 * moved to another install, whose alerts are raised anew under that install's name). The
 * certificate rule reads the store, which drops a removed host's certificate by itself.
 */
function hostLeft(alert: StoredAlert, inputs: AlertInputs, ruleLabels: Readonly<Record<string, string>> | undefined): boolean {
  if (alert.kind === 'certificate-expiry') return false;
  if (alert.hostId === null) return true;
  const host = inputs.describeHost(alert.hostId);
  if (host === undefined) return true;
  // The install label a condition gives the host now (a host in no install keeps the rule's own, if any).
  const install = host.installName ?? ruleLabels?.install;
  return alert.labels.install !== install;
}

/** An alert's identity: its rule and its subject's labels, in a stable order. */
export function fingerprintOf(rule: string, labels: Readonly<Record<string, string>>): string {
  return JSON.stringify([
    rule,
    ...Object.keys(labels)
      .sort()
      .map((key) => [key, labels[key]]),
  ]);
}
