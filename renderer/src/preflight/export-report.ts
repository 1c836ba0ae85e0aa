function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "20251126-140327" in local time: sorts by name, no characters a file system refuses. */
export function fileTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

/** Keeps a name safe as one path segment on every OS. */
function safeSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'report';
}

/** "preflight-agent-db-2-20251126-140327.json", or "…-3-hosts-…" for several. */
export function reportFileName(profile: string, subject: string, ranAt: number): string {
  return `preflight-${safeSegment(profile)}-${safeSegment(subject)}-${fileTimestamp(ranAt)}.json`;
}
