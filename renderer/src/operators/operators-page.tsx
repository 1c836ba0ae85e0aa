import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import {
  MIN_OPERATOR_PASSWORD_LENGTH,
  ROLES,
  visibleText,
  type Operator,
  type OperatorListEntry,
  type Role,
} from '../../../electron/contract';
import { apiKey, useApiQuery } from '../api/queries';
import { useApiAction } from '../api/use-api-action';
import { Card } from '../ui/card';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { DataTable, type Column } from '../ui/data-table';
import { FormField } from '../ui/form-field';
import { ModalDialog } from '../ui/modal-dialog';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';
import { RelativeTime } from '../ui/relative-time';
import { DeniedNote } from './denied-note';
import { MyTwoFactor } from './my-two-factor';
import { ResetTwoFactor } from './reset-two-factor';
import { attributesFromFields, describeAttributes, NO_ATTRIBUTES, type AttributeFields } from './operator-attributes';
import { useAllowed, useSession } from './use-session';
import { WebSessionsCard } from './web-sessions-card';
import { RuntimeCredentialsCard } from './runtime-credentials-card';

/**
 * The people this control center knows (issue 14): name, role, attributes and state.
 * Admins add, change, disable and remove them; everyone else sees the list with the
 * controls disabled and the reason. While there is none, every window acts as the one
 * admin; the first operator must be an admin, and the window that adds it goes on as it.
 */
export function OperatorsPage() {
  const operators = useApiQuery('operators.list', {});
  const session = useSession();
  const manage = useAllowed('manage-operators');
  return (
    <section className="page" data-testid="operators-page">
      <header className="page-head">
        <div>
          <h1>Operators</h1>
          <p className="page-sub">
            A <strong>viewer</strong> sees everything, logs included; an <strong>operator</strong> also starts, stops, restarts and scales
            processes, probes hosts and acknowledges alerts; an <strong>admin</strong> also installs, upgrades, uninstalls, manages hosts,
            keys, bundles and operators. While no operator exists every window acts as the one admin; once one does, each window signs in.
          </p>
        </div>
      </header>
      <DeniedNote allowed={manage} testId="operators-denied" />
      {session.data?.operator ? <MyTwoFactor /> : null}
      <AddOperator disabledReason={manage.reason} first={session.data?.operatorsExist === false} />
      <Card title="Operators" testId="operators-list">
        {operators.isError ? (
          <ErrorNotice title="Could not load the operators" error={operators.error} onRetry={() => void operators.refetch()} />
        ) : !operators.data ? (
          <LoadingState label="Loading the operators…" />
        ) : operators.data.length === 0 ? (
          <EmptyState title="No operators yet">
            Every window and command acts as the one admin until the first operator is added.
          </EmptyState>
        ) : (
          <DataTable
            className="operators-table"
            columns={columns(manage.reason, session.data?.operator?.name ?? null)}
            rows={operators.data}
            rowKey={(operator) => operator.id}
            rowProps={(operator) => ({ 'data-operator': operator.name })}
          />
        )}
      </Card>
      {session.data?.operator ? <WebSessionsCard everyone={manage.allowed} /> : null}
      <RuntimeCredentialsCard disabledReason={manage.reason} />
    </section>
  );
}

function columns(disabledReason: string | null, me: string | null): Array<Column<OperatorListEntry>> {
  return [
    {
      header: 'Name',
      cell: (operator) => (
        <span className="mono">
          {visibleText(operator.name)}
          {operator.name === me ? <span className="muted"> (you)</span> : null}
        </span>
      ),
    },
    {
      header: 'Role',
      cellProps: () => ({ 'data-testid': 'operator-role' }),
      cell: (operator) => <RoleSelect operator={operator} disabledReason={disabledReason} />,
    },
    {
      header: 'State',
      cell: (operator) => (
        <>
          {operator.disabled ? 'disabled' : 'enabled'}
          {operator.passwordSet ? null : (
            // Brought in by a configuration bundle: it cannot sign in until an admin sets a password.
            <>
              {' '}
              <span
                className="badge"
                data-testid="operator-no-password"
                title="Imported from a configuration bundle: this operator cannot sign in until an admin sets a password (Set password)."
              >
                no password yet
              </span>
            </>
          )}
        </>
      ),
      cellProps: () => ({ 'data-testid': 'operator-state' }),
    },
    {
      header: 'Two-factor',
      cell: (operator) => (operator.twoFactor ? 'on' : 'off'),
      cellProps: () => ({ 'data-testid': 'operator-two-factor' }),
    },
    { header: 'Attributes', cell: (operator) => visibleText(describeAttributes(operator.attributes)) },
    { header: 'Changed', cell: (operator) => <RelativeTime ms={operator.updatedAt} /> },
    { label: 'Actions', cell: (operator) => <OperatorActions operator={operator} disabledReason={disabledReason} /> },
  ];
}

/** Reads the list (and this window's session: its own role may have changed) again after a change. */
function useRefresh() {
  const queryClient = useQueryClient();
  return async () => {
    await queryClient.invalidateQueries({ queryKey: apiKey('operators.list') });
    await queryClient.invalidateQueries({ queryKey: apiKey('session.whoami') });
  };
}

function RoleSelect({ operator, disabledReason }: { operator: Operator; disabledReason: string | null }) {
  const set = useApiAction('operators.set');
  const refresh = useRefresh();
  return (
    <>
      <select
        className="input input-inline"
        aria-label={`Role of ${operator.name}`}
        value={operator.role}
        disabled={disabledReason !== null || set.pending}
        title={disabledReason ?? undefined}
        onChange={(event) => void set.run({ name: operator.name, role: event.target.value as Role }).then(refresh)}
      >
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      {set.state.status === 'error' ? <ErrorNotice title={`${operator.name} was not changed`} error={set.state.error} /> : null}
    </>
  );
}

function OperatorActions({ operator, disabledReason }: { operator: Operator; disabledReason: string | null }) {
  const set = useApiAction('operators.set');
  const remove = useApiAction('operators.remove');
  const refresh = useRefresh();
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [settingPassword, setSettingPassword] = useState(false);
  const blocked = disabledReason !== null || set.pending || remove.pending;
  const failed = set.state.status === 'error' ? set.state.error : remove.state.status === 'error' ? remove.state.error : null;
  return (
    <div className="actions">
      <button
        type="button"
        className="button"
        disabled={blocked}
        title={disabledReason ?? undefined}
        onClick={() => void set.run({ name: operator.name, disabled: !operator.disabled }).then(refresh)}
      >
        {operator.disabled ? 'Enable' : 'Disable'}
      </button>
      <button
        type="button"
        className="button"
        disabled={blocked}
        title={disabledReason ?? undefined}
        onClick={() => setSettingPassword(true)}
      >
        Set password
      </button>
      <ResetTwoFactor operator={operator} disabledReason={disabledReason} />
      <button
        type="button"
        className="button button-danger"
        disabled={blocked}
        title={disabledReason ?? undefined}
        onClick={() => setConfirmRemove(true)}
      >
        Remove
      </button>
      {failed ? <ErrorNotice title={`${operator.name} was not changed`} error={failed} /> : null}
      {confirmRemove ? (
        <ConfirmDialog
          title={`Remove ${operator.name}?`}
          description="Windows and commands signed in as this operator stop acting as it at their next call."
          testId="confirm-remove-operator"
          confirmLabel="Remove"
          onConfirm={() => void remove.run({ name: operator.name }).then(refresh)}
          onClose={() => setConfirmRemove(false)}
        >
          <p>The operator’s past actions stay recorded under its name.</p>
        </ConfirmDialog>
      ) : null}
      {settingPassword ? <SetPasswordDialog operator={operator} onClose={() => setSettingPassword(false)} /> : null}
    </div>
  );
}

function SetPasswordDialog({ operator, onClose }: { operator: Operator; onClose: () => void }) {
  const set = useApiAction('operators.set');
  const refresh = useRefresh();
  const [password, setPassword] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // The list reads again: an operator that had no password yet loses its marker.
    if (await set.run({ name: operator.name, password })) {
      onClose();
      await refresh();
    }
  };
  return (
    <ModalDialog title={`A new password for ${operator.name}`} onClose={onClose} testId="set-operator-password">
      <form onSubmit={(event) => void submit(event)}>
        <FormField label="New password" hint={`${MIN_OPERATOR_PASSWORD_LENGTH} characters or more.`}>
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            data-autofocus
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </FormField>
        {set.state.status === 'error' ? <ErrorNotice title="The password was not changed" error={set.state.error} /> : null}
        <div className="actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={set.pending || password === ''}>
            Set password
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}

function AddOperator({ disabledReason, first }: { disabledReason: string | null; first: boolean }) {
  const add = useApiAction('operators.add');
  const refresh = useRefresh();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [fields, setFields] = useState<AttributeFields>(NO_ATTRIBUTES);
  const field = (key: keyof AttributeFields) => ({
    value: fields[key],
    onChange: (event: { target: { value: string } }) => setFields({ ...fields, [key]: event.target.value }),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const added = await add.run({ name: name.trim(), role: first ? 'admin' : role, password, attributes: attributesFromFields(fields) });
    setPassword('');
    if (!added) return;
    setName('');
    setFields(NO_ATTRIBUTES);
    await refresh();
    // The first operator changes what every query may answer (this window is now signed in as it).
    if (first) await queryClient.invalidateQueries();
  };

  const blocked = disabledReason !== null;
  return (
    <Card title="Add an operator" testId="add-operator">
      {first ? <p className="muted">The first operator must be an admin; this window then goes on signed in as it.</p> : null}
      <form className="operator-form" onSubmit={(event) => void submit(event)}>
        <fieldset disabled={blocked || add.pending} title={disabledReason ?? undefined}>
          <div className="form-grid">
            <FormField label="Name">
              <input className="input" name="name" autoComplete="off" value={name} onChange={(event) => setName(event.target.value)} />
            </FormField>
            <FormField label="Role">
              <select
                className="input"
                name="role"
                value={first ? 'admin' : role}
                disabled={first}
                onChange={(event) => setRole(event.target.value as Role)}
              >
                {ROLES.map((option) => (
                  <option key={option} value={option}>
                    {option}
                  </option>
                ))}
              </select>
            </FormField>
            <FormField label="Password" hint={`${MIN_OPERATOR_PASSWORD_LENGTH} characters or more.`}>
              <input
                className="input"
                type="password"
                name="password"
                autoComplete="new-password"
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
            </FormField>
            <FormField label="Team" hint="Optional.">
              <input className="input" name="team" {...field('team')} />
            </FormField>
            <FormField label="Installs" hint="Optional; comma-separated install names.">
              <input className="input" name="installs" {...field('installs')} />
            </FormField>
            <FormField label="Host labels" hint="Optional; comma-separated, such as rack=b4.">
              <input className="input" name="hostLabels" {...field('hostLabels')} />
            </FormField>
            <FormField label="Processes" hint="Optional; comma-separated process names.">
              <input className="input" name="processes" {...field('processes')} />
            </FormField>
            <FormField label="Hours" hint="Optional; HH:MM-HH:MM, such as 08:00-18:00.">
              <input className="input" name="hours" {...field('hours')} />
            </FormField>
          </div>
          <div className="actions">
            <button type="submit" className="button button-primary" disabled={name.trim() === '' || password === ''}>
              {add.pending ? 'Adding…' : 'Add operator'}
            </button>
          </div>
        </fieldset>
      </form>
      {add.state.status === 'error' ? <ErrorNotice title="The operator was not added" error={add.state.error} /> : null}
    </Card>
  );
}
