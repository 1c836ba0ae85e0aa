import type { TestEndpoint, TestLab } from './test-hosts';

/**
 * A test host's link slowed with `tc` (a token bucket on eth0 in its namespace) so that a
 * test can act in the middle of an upload. The rate is a crawl on purpose: at 4 Mbit/s a
 * 100 MB test bundle takes over three minutes, so "cancel (or stop) before the upload
 * ends" holds by a wide margin on a loaded CI machine, where clicking through a dialog
 * took longer than the ten seconds 80 Mbit/s left. Tests restore the link before they
 * wait for an upload to finish.
 */
export async function slowHostLink(lab: TestLab, host: TestEndpoint, rate = '4mbit'): Promise<void> {
  if (!/^\d+(k|m)bit$/.test(rate)) throw new Error(`not a tc rate: ${rate}`);
  const result = await lab.exec(host, `tc qdisc replace dev eth0 root tbf rate ${rate} burst 64kb latency 200ms`);
  if (result.code !== 0) throw new Error(`tc could not slow the link of ${host.namespace}: ${result.stderr}`);
}

/** The link at full speed again; nothing to undo is fine. */
export async function restoreHostLink(lab: TestLab, host: TestEndpoint): Promise<void> {
  await lab.exec(host, 'tc qdisc del dev eth0 root 2>/dev/null || :');
}
