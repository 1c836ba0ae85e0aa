import type { BundleVerification } from '../../../electron/contract';
import { formatBytes } from '../format/bytes';
import { Fact } from '../ui/card';

/** What a verified bundle holds, as its manifest says and the checks confirmed. */
export function BundleFacts({ verification }: { verification: BundleVerification }) {
  const components = Object.entries(verification.components);
  return (
    <dl className="facts facts-wide" data-testid="bundle-facts">
      <Fact label="Bundle">
        {verification.name} {verification.version}
      </Fact>
      <Fact label="Built">{verification.createdAt}</Fact>
      <Fact label="Architectures">{verification.architectures.join(', ')}</Fact>
      <Fact label="Components">{components.map(([name, component]) => `${name} ${component.version}`).join(', ')}</Fact>
      <Fact label="Profiles">{verification.profiles.join(', ')}</Fact>
      <Fact label="Needs">
        control center {verification.compatibility.controlCenter}, runtime {verification.compatibility.runtime}
      </Fact>
      <Fact label="Files">{verification.fileCount} files, each matching its SHA-256</Fact>
      <Fact label="Size" bytes={verification.sizeBytes}>
        {formatBytes(verification.sizeBytes)}
      </Fact>
      <Fact label="SHA-256">
        <span className="mono">{verification.sha256}</span>
      </Fact>
    </dl>
  );
}
