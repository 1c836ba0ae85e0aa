/**
 * A name for a second text that differs from the first: the backend refuses two layers
 * of one name, because every file:line:column would then be ambiguous.
 */
export function distinctName(name: string, taken: string): string {
  if (name !== taken) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (other)${name.slice(dot)}` : `${name} (other)`;
}
