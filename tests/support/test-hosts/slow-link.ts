import type { TestEndpoint, TestLab } from './test-hosts';

/**
 * A test host's link slowed with `tc` (a token bucket on eth0 in its namespace): at 80
 * Mbit/s a test bundle takes several seconds to upload, time enough to act in the middle.
 */
export async function slowHostLink(lab: TestLab, host: TestEndpoint): Promise<void> {
  const result = await lab.exec(host, 'tc qdisc replace dev eth0 root tbf rate 80mbit burst 256kb latency 100ms');
  if (result.code !== 0) throw new Error(`tc could not slow the link of ${host.namespace}: ${result.stderr}`);
}

/** The link at full speed again; nothing to undo is fine. */
export async function restoreHostLink(lab: TestLab, host: TestEndpoint): Promise<void> {
  await lab.exec(host, 'tc qdisc del dev eth0 root 2>/dev/null || :');
}
