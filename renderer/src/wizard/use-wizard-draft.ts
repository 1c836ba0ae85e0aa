import { useCallback, useEffect, useRef, useState } from 'react';
import type { WizardDraftInput, WizardStep } from '../../../electron/contract';
import { useApiClient } from '../api/api-context';
import { newWizardDraft } from './wizard-draft';

/** Typing is saved this long after the last key; moving between steps is saved at once. */
const SAVE_DEBOUNCE_MS = 400;

export type SaveState = { status: 'saved' | 'saving' | 'unsaved' } | { status: 'error'; error: unknown };

export interface WizardDraftHandle {
  draft: WizardDraftInput;
  save: SaveState;
  /** Changes part of the draft; stored shortly after. */
  update(patch: Partial<WizardDraftInput>): void;
  /** Moves to a step (with any change that goes with it), stored at once. */
  go(step: WizardStep, patch?: Partial<WizardDraftInput>): Promise<void>;
  /** Forgets the draft in the store and starts a new one. */
  discard(): Promise<void>;
  retrySave(): void;
}

/**
 * The wizard's draft: loaded from the backend's store (the newest one), edited here, and
 * written back after every change, one save at a time so the last one written is the
 * newest state. The store, not this window, is what a reload or a restart finds.
 */
export function useWizardDraft():
  { status: 'loading' } | { status: 'error'; error: unknown; retry: () => void } | ({ status: 'ready' } & WizardDraftHandle) {
  const client = useApiClient();
  const [loaded, setLoaded] = useState<{ status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready' }>({
    status: 'loading',
  });
  const [draft, setDraft] = useState<WizardDraftInput>(newWizardDraft);
  const [save, setSave] = useState<SaveState>({ status: 'saved' });
  const latest = useRef(draft);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const timer = useRef<number | null>(null);
  const dirty = useRef(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let active = true;
    client.call('wizard.get', {}).then(
      ({ draft: stored }) => {
        if (!active) return;
        const { createdAt: _c, updatedAt: _u, ...input } = stored ?? { ...newWizardDraft(), createdAt: 0, updatedAt: 0 };
        latest.current = input;
        setDraft(input);
        setLoaded({ status: 'ready' });
      },
      (error: unknown) => {
        if (active) setLoaded({ status: 'error', error });
      },
    );
    return () => {
      active = false;
    };
  }, [client, attempt]);

  /** Queues a save of whatever the draft is when its turn comes; saves never overlap. */
  const flush = useCallback((): Promise<void> => {
    if (timer.current !== null) {
      window.clearTimeout(timer.current);
      timer.current = null;
    }
    const run = chain.current.then(async () => {
      if (!dirty.current) return;
      dirty.current = false;
      setSave({ status: 'saving' });
      try {
        const saved = await client.call('wizard.save', { draft: latest.current });
        // Only the id is taken from the answer: the operator may have typed on meanwhile.
        if (latest.current.draftId === undefined) {
          latest.current = { ...latest.current, draftId: saved.draftId };
          setDraft((current) => ({ ...current, draftId: saved.draftId }));
        }
        setSave(dirty.current ? { status: 'unsaved' } : { status: 'saved' });
      } catch (error) {
        dirty.current = true;
        setSave({ status: 'error', error });
      }
    });
    chain.current = run;
    return run;
  }, [client]);

  const change = useCallback((patch: Partial<WizardDraftInput>) => {
    latest.current = { ...latest.current, ...patch };
    dirty.current = true;
    setDraft(latest.current);
    setSave({ status: 'unsaved' });
  }, []);

  const update = useCallback(
    (patch: Partial<WizardDraftInput>) => {
      change(patch);
      if (timer.current !== null) window.clearTimeout(timer.current);
      timer.current = window.setTimeout(() => void flush(), SAVE_DEBOUNCE_MS);
    },
    [change, flush],
  );

  const go = useCallback(
    async (step: WizardStep, patch: Partial<WizardDraftInput> = {}) => {
      change({ ...patch, step });
      await flush();
      window.scrollTo({ top: 0 });
    },
    [change, flush],
  );

  const discard = useCallback(async () => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
    dirty.current = false;
    await chain.current;
    const { draftId } = latest.current;
    if (draftId !== undefined) await client.call('wizard.discard', { draftId });
    latest.current = newWizardDraft();
    dirty.current = false;
    setDraft(latest.current);
    setSave({ status: 'saved' });
  }, [client]);

  // Leaving the page (a reload, closing the window) sends what is still waiting for its pause.
  useEffect(() => {
    const onHide = () => {
      if (dirty.current) void flush();
    };
    window.addEventListener('pagehide', onHide);
    return () => {
      window.removeEventListener('pagehide', onHide);
      onHide();
    };
  }, [flush]);

  if (loaded.status === 'loading') return { status: 'loading' };
  if (loaded.status === 'error')
    return {
      status: 'error',
      error: loaded.error,
      retry: () => {
        setLoaded({ status: 'loading' });
        setAttempt((n) => n + 1);
      },
    };
  return { status: 'ready', draft, save, update, go, discard, retrySave: () => void flush() };
}
