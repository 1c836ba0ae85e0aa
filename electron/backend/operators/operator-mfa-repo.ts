import type Database from 'better-sqlite3';

/** An operator's TOTP row: where its sealed secret is, whether the first code confirmed it, and the last step accepted. */
export interface TotpRow {
  secretId: number;
  confirmed: boolean;
  lastStep: number;
}

/** The tables of migration 021: TOTP enrolments, recovery-code hashes, and the step-up setting (033: and the web-mode one). */
export interface OperatorMfaRepo {
  totpOf(operatorId: number): TotpRow | undefined;
  /** A new, unconfirmed enrolment; returns the secret id of the one it replaces, for the vault to remove. */
  startEnrolment(operatorId: number, secretId: number, now: number): number | undefined;
  confirm(operatorId: number, now: number): void;
  /** Records `step` as used; false when it (or a later one) was used already: a replay. */
  acceptStep(operatorId: number, step: number): boolean;
  replaceRecoveryCodes(operatorId: number, hashes: readonly Buffer[]): void;
  /** Marks an unused code with this hash used; false when there is none. */
  useRecoveryCode(operatorId: number, hash: Buffer, now: number): boolean;
  recoveryCodesLeft(operatorId: number): number;
  /** Drops an operator's enrolment and codes; returns its secret id, for the vault to remove. */
  forget(operatorId: number): number | undefined;
  stepUpRequired(): boolean;
  setStepUpRequired(required: boolean, now: number): void;
  /** Migration 033's column beside step_up: two-factor sign-in required of web mode for a team's operators. */
  webRequired(): boolean;
  setWebRequired(required: boolean, now: number): void;
  transaction<T>(fn: () => T): T;
}

export function createOperatorMfaRepo(db: Database.Database): OperatorMfaRepo {
  const selectTotp = db.prepare<[number], { secret_id: number; confirmed_at: number | null; last_step: number }>(
    'SELECT secret_id, confirmed_at, last_step FROM operator_totp WHERE operator_id = ?',
  );
  const upsertTotp = db.prepare(
    `INSERT INTO operator_totp (operator_id, secret_id, confirmed_at, last_step, created_at) VALUES (?, ?, NULL, -1, ?)
     ON CONFLICT (operator_id) DO UPDATE SET secret_id = excluded.secret_id, confirmed_at = NULL, last_step = -1, created_at = excluded.created_at`,
  );
  const confirmTotp = db.prepare('UPDATE operator_totp SET confirmed_at = ? WHERE operator_id = ?');
  const advanceStep = db.prepare('UPDATE operator_totp SET last_step = ? WHERE operator_id = ? AND last_step < ?');
  const deleteTotp = db.prepare('DELETE FROM operator_totp WHERE operator_id = ?');
  const deleteCodes = db.prepare('DELETE FROM operator_recovery_codes WHERE operator_id = ?');
  const insertCode = db.prepare('INSERT INTO operator_recovery_codes (operator_id, code_hash) VALUES (?, ?)');
  const useCode = db.prepare(
    `UPDATE operator_recovery_codes SET used_at = ?
     WHERE id = (SELECT id FROM operator_recovery_codes WHERE operator_id = ? AND code_hash = ? AND used_at IS NULL LIMIT 1)`,
  );
  const countLeft = db.prepare<[number], { n: number }>(
    'SELECT COUNT(*) AS n FROM operator_recovery_codes WHERE operator_id = ? AND used_at IS NULL',
  );
  const selectPolicy = db.prepare<[], { step_up: number; web_required: number }>(
    'SELECT step_up, web_required FROM mfa_policy WHERE id = 1',
  );
  const upsertPolicy = db.prepare(
    'INSERT INTO mfa_policy (id, step_up, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET step_up = excluded.step_up, updated_at = excluded.updated_at',
  );
  const upsertWebRequired = db.prepare(
    'INSERT INTO mfa_policy (id, web_required, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET web_required = excluded.web_required, updated_at = excluded.updated_at',
  );

  const totpOf = (operatorId: number): TotpRow | undefined => {
    const row = selectTotp.get(operatorId);
    return row && { secretId: row.secret_id, confirmed: row.confirmed_at !== null, lastStep: row.last_step };
  };

  return {
    totpOf,
    startEnrolment(operatorId, secretId, now) {
      const previous = totpOf(operatorId)?.secretId;
      upsertTotp.run(operatorId, secretId, now);
      deleteCodes.run(operatorId);
      return previous;
    },
    confirm: (operatorId, now) => void confirmTotp.run(now, operatorId),
    acceptStep: (operatorId, step) => advanceStep.run(step, operatorId, step).changes === 1,
    replaceRecoveryCodes(operatorId, hashes) {
      deleteCodes.run(operatorId);
      for (const hash of hashes) insertCode.run(operatorId, hash);
    },
    useRecoveryCode: (operatorId, hash, now) => useCode.run(now, operatorId, hash).changes === 1,
    recoveryCodesLeft: (operatorId) => countLeft.get(operatorId)!.n,
    forget(operatorId) {
      const previous = totpOf(operatorId)?.secretId;
      deleteTotp.run(operatorId);
      deleteCodes.run(operatorId);
      return previous;
    },
    stepUpRequired: () => selectPolicy.get()?.step_up === 1,
    setStepUpRequired: (required, now) => void upsertPolicy.run(required ? 1 : 0, now),
    webRequired: () => selectPolicy.get()?.web_required === 1,
    setWebRequired: (required, now) => void upsertWebRequired.run(required ? 1 : 0, now),
    transaction: (fn) => db.transaction(fn).immediate(),
  };
}
