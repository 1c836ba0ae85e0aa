import { useEffect, useState } from 'react';

/**
 * Component state that survives leaving the page and a reload of this window (not a new
 * window): a draft the operator typed is not lost to a click on another page. `restore`
 * checks what was stored and returns null for anything it does not recognise.
 */
export function useSessionState<T>(key: string, initial: T, restore: (stored: unknown) => T | null): [T, (next: T) => void] {
  const [value, setValue] = useState<T>(() => {
    try {
      const stored = window.sessionStorage.getItem(key);
      return stored === null ? initial : (restore(JSON.parse(stored)) ?? initial);
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    try {
      window.sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or disabled: the draft lives as long as the page, which is still useful.
    }
  }, [key, value]);
  return [value, setValue];
}
