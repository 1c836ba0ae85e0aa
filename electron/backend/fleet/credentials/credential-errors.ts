import { ApiError } from '../../../contract';
import type { LinkTarget } from '../link/link-types';

/**
 * Refusals of a call made for an operator before it reaches a runtime: the control center
 * never sends an operator's action under its own name when it cannot name the operator.
 */
export function credentialNotReadyError(target: LinkTarget, operatorName: string, why: string): ApiError {
  return new ApiError(
    'OPERATOR_CREDENTIAL_NOT_READY',
    `The action as ${operatorName} on ${target.hostName} was not sent: ${why}.`,
    'Wait until the Fleet page shows the link to this host online, then retry. The control center never sends an operator’s action under its own name.',
    { cliRemedy: 'Check the host with `sutazai status`, then retry; the runtime must be reachable to be told who may call it.' },
  );
}

/** The operator a call is made for was removed or disabled meanwhile. */
export function operatorGoneError(operatorName: string): ApiError {
  return new ApiError(
    'OPERATOR_NOT_FOUND',
    `There is no enabled operator named "${operatorName}": the action was not sent.`,
    'Sign in as an enabled operator and retry.',
    { cliRemedy: 'List them with `sutazai operators list`, then retry with --as NAME.' },
  );
}

export function installMissingError(name: string): ApiError {
  return new ApiError('NOT_FOUND', `There is no install named ${name}.`, 'Pick an install from the Installs page.', {
    cliRemedy: 'List them with `sutazai installs`.',
  });
}

export function serialMissingError(serial: string): ApiError {
  return new ApiError(
    'OPERATOR_CERTIFICATE_NOT_FOUND',
    `No operator certificate has the serial ${serial}.`,
    'Pick one from the operator’s certificates on the Operators page.',
    { cliRemedy: 'List them with `sutazai operators certificate list [NAME]`.' },
  );
}
