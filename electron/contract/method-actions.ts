import type { EventName, MethodName } from './api';
import { ACTIONS, type Action } from '../../agents-runtime/src/access/actions';

/**
 * What each method of the contract does, in the words access policies and the audit
 * log use (issue 14). One table, so a new method cannot be added without saying what
 * kind of action it is: the type requires an entry for every method and event.
 *
 * The actions themselves are the runtime's list (agents-runtime/src/access/actions.ts, pure
 * data): a policy file names them, and the runtime judges its calls by the same words.
 */
export { ACTIONS, type Action };

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The least role that may take each action under `access_control: rbac`. A viewer watches
 * (including logs); an operator also keeps things running day to day (process controls,
 * scale, probes, acknowledging alerts, wizard drafts); everything that changes what is
 * installed, trusted or who may act is an admin's.
 */
export const LEAST_ROLE: Readonly<Record<Action, Role>> = {
  view: 'viewer',
  logs: 'viewer',
  control: 'operator',
  scale: 'operator',
  probe: 'operator',
  acknowledge: 'operator',
  draft: 'operator',
  // Opening the vault lets stored passwords be used (probes need them); changing its passphrase is an admin's.
  unlock: 'operator',
  manifest: 'admin',
  install: 'admin',
  upgrade: 'admin',
  rollback: 'admin',
  uninstall: 'admin',
  'trust-key': 'admin',
  export: 'admin',
  'manage-hosts': 'admin',
  'import-bundle': 'admin',
  vault: 'admin',
  'manage-operators': 'admin',
  // Signing in and out is every role's (and recorded: the audit log sees who came and went).
  'sign-in': 'viewer',
};

/** Whether `role` may take `action` by role alone. */
export function roleAllows(role: Role, action: Action): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(LEAST_ROLE[action]);
}

/** Actions that change state: these, and only these, are appended to the audit log. */
export function changesState(action: Action): boolean {
  return action !== 'view' && action !== 'logs';
}

/**
 * The action of every method. Reads that contact hosts without changing anything
 * (scans, plans, preflights, health) are `view`, except where they record what they
 * found (probes and preflight runs are stored): those are `probe`.
 */
export const METHOD_ACTIONS: Readonly<Record<MethodName, Action>> = {
  'app.info': 'view',
  'hosts.list': 'view',
  'hosts.get': 'view',
  'hosts.find': 'view',
  'hosts.probe': 'probe',
  'hosts.add': 'manage-hosts',
  'hosts.scanNew': 'view',
  'hosts.update': 'manage-hosts',
  'hosts.remove': 'manage-hosts',
  'hosts.import': 'manage-hosts',
  'hosts.importFile': 'manage-hosts',
  'hosts.scanKey': 'view',
  'hosts.trust': 'trust-key',
  'hosts.importKnownHosts': 'trust-key',
  'hosts.factsHistory': 'view',
  'probes.start': 'probe',
  'probes.status': 'view',
  'probes.cancel': 'probe',
  'preflight.profiles': 'view',
  'preflight.run': 'probe',
  'preflight.history': 'view',
  'preflight.latest': 'view',
  'metrics.query': 'view',
  'metrics.seriesKeys': 'view',
  'bundles.list': 'view',
  'bundles.verify': 'view',
  'bundles.import': 'import-bundle',
  'bundles.verifyUpload': 'view',
  'bundles.importUpload': 'import-bundle',
  'bundles.trustedKeys': 'view',
  'config.check': 'view',
  'config.explain': 'view',
  'config.diff': 'view',
  'installs.suggestPlacement': 'view',
  'installs.preflight': 'view',
  'installs.plan': 'view',
  'installs.start': 'install',
  'installs.status': 'view',
  'installs.cancel': 'install',
  'installs.jobs': 'view',
  'installs.upgradeOffer': 'view',
  'installs.upgradePlan': 'view',
  'installs.upgrade': 'upgrade',
  'installs.rollback': 'rollback',
  'installs.uninstall': 'uninstall',
  'installs.planFile': 'view',
  'installs.applyFile': 'install',
  'installs.rollbackFile': 'rollback',
  'installs.cancelRun': 'install',
  'installs.uninstallFile': 'uninstall',
  'installs.list': 'view',
  'installs.get': 'view',
  'installs.health': 'view',
  'installs.prometheusTargets': 'view',
  'wizard.get': 'view',
  'wizard.save': 'draft',
  'wizard.discard': 'draft',
  'secrets.status': 'view',
  'secrets.unlock': 'unlock',
  'secrets.changePassphrase': 'vault',
  'alerts.list': 'view',
  'alerts.ack': 'acknowledge',
  'alerts.rules': 'view',
  'events.list': 'view',
  'fleet.links': 'view',
  'fleet.processes': 'view',
  'fleet.start': 'control',
  'fleet.stop': 'control',
  'fleet.restart': 'control',
  'fleet.scale': 'scale',
  'fleet.logs': 'logs',
  'audit.list': 'view',
  'audit.verify': 'view',
  'audit.verifyHost': 'view',
  'audit.hostLog': 'view',
  'audit.hostKeys': 'view',
  // Taking a host's runtime log as a new start trusts what is on the host, as trusting a changed host key does: an admin's.
  'audit.acceptHostReset': 'trust-key',
  // A configuration bundle carries the inventory (and, when asked, its secrets sealed) off the site: an export.
  // Importing one adds and changes hosts, keys and installs, like importing a release bundle: an admin's.
  'configBundles.export': 'export',
  'configBundles.review': 'view',
  'configBundles.import': 'import-bundle',
  // Web mode's twins of the three above (a download and an upload instead of paths): the same actions.
  'configBundles.exportDownload': 'export',
  'configBundles.reviewUpload': 'view',
  'configBundles.importUpload': 'import-bundle',
  'configBundles.keys': 'view',
  'configBundles.revokeExporter': 'import-bundle',
  // A backup carries everything the store holds (sealed secrets, password hashes): an export.
  'store.backup': 'export',
  // A support bundle carries the site's logs and configuration off it (redacted): an admin's, like any export. Reading one is a view.
  'support.collect': 'export',
  'support.preview': 'export',
  'support.save': 'export',
  'support.download': 'export',
  'support.analyze': 'view',
  'support.analyzeUpload': 'view',
  // Only leave to try: the upload itself is checked against the method it is for (web-server.ts).
  'uploads.permit': 'view',
  'operators.list': 'view',
  'operators.add': 'manage-operators',
  'operators.set': 'manage-operators',
  'operators.remove': 'manage-operators',
  'session.signIn': 'sign-in',
  'session.signOut': 'sign-in',
  'session.provider': 'view',
  'session.signInWithProvider': 'sign-in',
  'session.completeProviderSignIn': 'sign-in',
  'session.completeProviderSecondStep': 'sign-in',
  'session.cancelProviderSecondStep': 'sign-in',
  'session.whoami': 'view',
  // One's own web sessions are every role's; everyone's (list all, revoke another's) an admin's (checked in the handler).
  'sessions.list': 'view',
  'sessions.revoke': 'sign-in',
  // Two-factor sign-in of one's own (enrol, step up) is every role's; another operator's is an admin's (checked in the handler).
  'session.stepUp': 'sign-in',
  'mfa.status': 'view',
  'mfa.enrolBegin': 'sign-in',
  'mfa.enrolConfirm': 'sign-in',
  'mfa.reset': 'manage-operators',
  'mfa.setStepUp': 'manage-operators',
  'mfa.setWebRequired': 'manage-operators',
  'session.beginWebEnrolment': 'sign-in',
  'session.confirmWebEnrolment': 'sign-in',
  'session.cancelWebEnrolment': 'sign-in',
  // Asking what the access policy says gives nothing away that the refusal itself would not.
  'access.explain': 'view',
  'access.policy': 'view',
  // Operators' own runtime credentials and the install's token key: an admin's, stepped up, audited.
  'operators.certificateIssue': 'manage-operators',
  'operators.certificates': 'view',
  'operators.certificateRevoke': 'manage-operators',
  'access.rotateKey': 'manage-operators',
};

/** Every event is a feed of something to watch; log follows are `logs`. */
export const EVENT_ACTIONS: Readonly<Record<EventName, Action>> = {
  'metrics.live': 'view',
  'probes.progress': 'view',
  'hosts.changed': 'view',
  'installs.progress': 'view',
  'installs.runProgress': 'view',
  'alerts.changed': 'view',
  'events.appended': 'view',
  'fleet.linkChanged': 'view',
  'fleet.logFollow': 'logs',
};
