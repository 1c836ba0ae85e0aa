/** An exported document (a preflight report, …): the contract's own shape, indented for reading and diffing. */
export function jsonFileText(data: unknown): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

export function downloadJson(data: unknown, fileName: string): void {
  downloadFile(jsonFileText(data), fileName, 'application/json');
}

/**
 * Saves text as a file (a JSON document, a log). A `blob:` URL followed by an `<a download>` is a
 * download, not a navigation or a fetch, so the page's CSP (no blob: in connect-src or
 * img-src) does not stand in its way; the URL is revoked once the click was handled.
 */
export function downloadFile(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function DownloadJsonButton({ data, fileName, label = 'Export JSON' }: { data: unknown; fileName: string; label?: string }) {
  return (
    <button
      type="button"
      className="button"
      onClick={() => downloadJson(data, fileName)}
      data-testid="export-json"
      data-file-name={fileName}
    >
      {label}
    </button>
  );
}
