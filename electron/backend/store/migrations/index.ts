/**
 * The schema's migrations in order, one file each (NNN-what-it-adds.ts). A new one is a new
 * file with the next version, appended here; a shipped one is never edited.
 */
import { migration001 } from './001-hosts-facts-metric-tiers';
import { migration002 } from './002-ssh-inventory-host-keys-secrets-preflight';
import { migration003 } from './003-probe-outcomes';
import { migration004 } from './004-bundles-and-signing-keys';
import { migration005 } from './005-installs-steps-releases';
import { migration006 } from './006-wizard-drafts';
import { migration007 } from './007-install-jobs-and-definitions';
import { migration008 } from './008-wizard-host-overrides';
import { migration009 } from './009-vault-key-stretching';
import { migration010 } from './010-install-locks-and-data-dir-owner';
import { migration014 } from './014-one-bundle-file-per-version';
import { migration015 } from './015-fleet-events';
import { migration016 } from './016-alerts';
import { migration017 } from './017-metric-sample-journal';
import { migration018 } from './018-runtime-certificates';
import { migration019 } from './019-audit-log';
import { migration020 } from './020-operators';
import { migration021 } from './021-operator-mfa';
import { migration022 } from './022-web-sessions-and-sign-in-failures';
import { migration023 } from './023-runtime-credentials';
import { migration025 } from './025-config-bundle-keys';
import { migration026 } from './026-operator-ids-never-reused';
import { migration028 } from './028-oidc-key-sets';
import { migration029 } from './029-operator-provider-subjects';
import { migration030 } from './030-host-audit-heads';
import { migration032 } from './032-host-key-text';
import { migration033 } from './033-mfa-web-required';
import type { Migration } from './migration';

export type { Migration } from './migration';

export const migrations: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
  migration010,
  migration014,
  migration015,
  migration016,
  migration017,
  migration018,
  migration019,
  migration020,
  migration021,
  migration022,
  migration023,
  migration025,
  migration026,
  migration028,
  migration029,
  migration030,
  migration032,
  migration033,
];
