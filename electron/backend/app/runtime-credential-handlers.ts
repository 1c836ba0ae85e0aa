import type { OperatorCertificates } from '../fleet/credentials/operator-certificates';
import type { RuntimeCredentials } from '../fleet/credentials/runtime-credentials';
import type { MethodHandlers } from '../server/dispatcher';

export interface RuntimeCredentialApiDeps {
  operatorCertificates: OperatorCertificates;
  runtimeCredentials: Pick<RuntimeCredentials, 'rotateKey'>;
}

type RuntimeCredentialMethod = 'operators.certificateIssue' | 'operators.certificates' | 'operators.certificateRevoke' | 'access.rotateKey';

/** Operators' certificates and the install token key's rotation (issue 14 item 2); who may call them is with-access.ts's (admin, stepped up). */
export function createRuntimeCredentialHandlers({
  operatorCertificates,
  runtimeCredentials,
}: RuntimeCredentialApiDeps): Pick<MethodHandlers, RuntimeCredentialMethod> {
  return {
    'operators.certificateIssue': (input) => operatorCertificates.issue(input),
    'operators.certificates': ({ name }) => operatorCertificates.list(name),
    'operators.certificateRevoke': (input) => operatorCertificates.revoke(input),
    'access.rotateKey': ({ install }) => ({ install, ...runtimeCredentials.rotateKey(install) }),
  };
}
