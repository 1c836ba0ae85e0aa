import { ConfigTransfer } from './config-transfer';
import { InstallConfiguration } from './install-configuration';
import { useSessionState } from '../ui/use-session-state';
import { EMPTY_DRAFT, restoreConfigDraft } from './config-draft';

/** The install's layered configuration, edited and checked before any install uses it. */
export function ConfigurationPage() {
  const [draft, setDraft] = useSessionState('sutazai.config-draft', EMPTY_DRAFT, restoreConfigDraft);
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Configuration</h1>
          <p className="page-sub">
            What an install sets, in layers: the shipped defaults, an environment profile, then the install’s own values. Each is checked as
            you type, with the line and column of any problem.
          </p>
        </div>
      </header>
      <InstallConfiguration draft={draft} onChange={setDraft} />
      <ConfigTransfer />
    </section>
  );
}
