import { useState } from 'react';
import type { MethodParams } from '../../../electron/contract';
import { useApiQuery } from '../api/queries';
import { configLeaves } from './config-leaves';
import { formatConfigValue } from './format-config-value';
import { ConfigKeyExplanation } from './config-key-explanation';
import { DottedKey } from './dotted-key';
import { EmptyState, ErrorNotice, LoadingState } from '../ui/query-state';

/**
 * The merged configuration, key by key; picking a key asks the backend which layer set it.
 * `params` are the layers that produced `config`; null while newer ones are being checked,
 * so an explanation never mixes a new text with an old result.
 */
export function ConfigMergedValues({
  config,
  params,
  editedName,
  onReveal,
}: {
  config: Record<string, unknown>;
  params: MethodParams<'config.check'> | null;
  editedName: string;
  onReveal: (line: number, column: number) => void;
}) {
  const [picked, setPicked] = useState<string | null>(null);
  const leaves = configLeaves(config);
  const explain = useApiQuery(
    'config.explain',
    { ...(params ?? { install: [] }), key: picked ?? '' },
    { enabled: params !== null && picked !== null, keepPrevious: true, staleTime: Infinity, gcTime: 60_000 },
  );
  // While another key loads, the last one's answer is kept by the query; it must not show under the new key.
  const shown = explain.data?.key === picked ? explain.data : undefined;

  return (
    <div className="config-merged">
      <div className="config-merged-list table-card">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Merged value</th>
            </tr>
          </thead>
          <tbody>
            {leaves.map((leaf, index) => {
              const firstOfSection = index === 0 || leaves[index - 1]!.section !== leaf.section;
              return (
                <tr
                  key={leaf.key}
                  className={
                    [picked === leaf.key ? 'row-selected' : '', firstOfSection && index > 0 ? 'config-section-start' : '']
                      .join(' ')
                      .trim() || undefined
                  }
                  data-testid="config-value-row"
                  data-key={leaf.key}
                >
                  <td>
                    <button
                      type="button"
                      className="link-button mono"
                      aria-pressed={picked === leaf.key}
                      onClick={() => setPicked(leaf.key)}
                    >
                      <DottedKey path={leaf.key} />
                    </button>
                  </td>
                  <td className="mono">{formatConfigValue(leaf.value)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <aside className="config-merged-detail" aria-live="polite">
        {picked === null ? (
          <EmptyState title="Pick a key">Its value, the layer that set it and the values it overrode show here.</EmptyState>
        ) : shown ? (
          <ConfigKeyExplanation explanation={shown} editedName={editedName} onReveal={onReveal} />
        ) : explain.isError ? (
          <ErrorNotice title={`Could not explain ${picked}`} error={explain.error} onRetry={() => void explain.refetch()} />
        ) : (
          <LoadingState label={`Looking up ${picked}…`} />
        )}
      </aside>
    </div>
  );
}
