import { IP } from './netns';
import { parseRunId } from './resource-names';
import { runCommand } from './run-command';
import type { TestEndpoint, TestLab } from './test-hosts';

const TC = '/usr/sbin/tc';

/**
 * A test host's link slowed with `tc`, both ways, so that a test can act in the middle of
 * an upload. A qdisc shapes only what leaves a device: the token bucket on the host's eth0
 * slows what the host sends, and one on the root-namespace end of its veth (the bridge's
 * port towards the host) slows what it receives. With the first alone an upload ran at
 * full speed (only the host's ACKs crawled), a 100 MB bundle arrived in seconds, and a
 * loaded CI machine clicked through the cancel dialog after it had. This kernel has no
 * ingress policing (act_police), hence the root-namespace end.
 *
 * The rate is a crawl on purpose: at 4 Mbit/s a 100 MB test bundle takes over three
 * minutes, so "cancel (or stop) before the upload ends" holds by a wide margin. Tests
 * restore the link before they wait for an upload to finish.
 */
export async function slowHostLink(lab: TestLab, host: TestEndpoint, rate = '4mbit'): Promise<void> {
  if (!/^\d+(k|m)bit$/.test(rate)) throw new Error(`not a tc rate: ${rate}`);
  const bucket = ['root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '200ms'];
  const result = await lab.exec(host, `${TC} qdisc replace dev eth0 ${bucket.join(' ')}`);
  if (result.code !== 0) throw new Error(`tc could not slow the link of ${host.namespace}: ${result.stderr}`);
  await runCommand([TC, 'qdisc', 'replace', 'dev', await bridgePort(lab, host), ...bucket]);
}

/** The link at full speed again, both ways; nothing to undo is fine. */
export async function restoreHostLink(lab: TestLab, host: TestEndpoint): Promise<void> {
  await lab.exec(host, `${TC} qdisc del dev eth0 root 2>/dev/null || :`);
  const port = await bridgePort(lab, host).catch(() => undefined);
  if (port !== undefined) await runCommand([TC, 'qdisc', 'del', 'dev', port, 'root'], { okCodes: 'any' });
}

/** The root-namespace end of the host's veth: the link whose index is eth0's peer, and one the lab made for this run. */
async function bridgePort(lab: TestLab, host: TestEndpoint): Promise<string> {
  const peer = (await lab.exec(host, 'cat /sys/class/net/eth0/iflink')).stdout.trim();
  if (!/^\d{1,9}$/.test(peer)) throw new Error(`${host.namespace}: eth0 has no peer link (${peer})`);
  const line = (await runCommand([IP, '-o', 'link', 'show'])).stdout.split('\n').find((l) => l.startsWith(`${peer}: `));
  // `12: sztk…v1@if2: <BROADCAST,…`
  const name = line?.split(': ')[1]?.split('@')[0] ?? '';
  const runId = parseRunId.namespace(host.namespace);
  if (runId === undefined || parseRunId.veth(name) !== runId)
    throw new Error(`${host.namespace}: its peer link ${peer} is not the lab's veth (${name})`);
  return name;
}
