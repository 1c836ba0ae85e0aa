/**
 * The runtime's public module for its clients (the control center's backend, scripts):
 * what both ends of the gRPC API must agree on. Clients import this, and wire/load-proto.ts
 * to load the API, and nothing else of agents-runtime (lint enforces it,
 * scripts/lint/layer-boundaries.mjs); the runtime's own code imports the files here
 * directly. A client that needs more of the runtime adds it here, so what the runtime
 * promises its clients stays one short list.
 */
export {
  CONTROL_CENTER_URI,
  OPERATOR_URI_PREFIX,
  ROLES,
  ROLE_URI_PREFIX,
  isRole,
  operatorFromUri,
  operatorUri,
  roleUri,
  type Role,
} from './roles';
export { MAX_TOKEN_LIFETIME_S, TOKEN_ISSUER } from './access-token-claims';
export { ERROR_CODE_HEADER, REMEDY_HEADER, runtimeErrorFromMetadata } from './error-metadata';
// Loading the API is the second entry, wire/load-proto.ts, and not re-exported here:
// it loads @grpc/grpc-js and protobufjs, which a bundle keeps as soon as anything of
// this index is imported, and most clients (the backend's YAML worker thread, the config
// schema) want only words and readers.
export { findProtoDir } from './find-proto-dir';
export { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from './launch-env';
export { LOG_TIMESTAMPS, type LogTimestamps } from './config-enums';
export type * from './messages';
// The one vocabulary of metric series names (series-names.ts imports nothing, so the control
// center's contract may import that file itself) and a StreamMetrics sample as named values.
export {
  HOST_KEYED_SERIES,
  HOST_SERIES,
  isProcessSeries,
  isSeriesName,
  MAX_SERIES_NAME_LENGTH,
  parseSeriesName,
  PROCESS_SERIES,
  RESTART_REASONS,
  SERIES_FAMILIES,
  seriesName,
  type HostKeyedFamily,
  type HostSeriesName,
  type ParsedSeriesName,
  type ProcessFamily,
  type RestartReason,
  type SeriesFamily,
  type SeriesFamilyName,
  type SeriesKeyKind,
} from './series-names';
export { sampleSeries, type SeriesValue } from './sample-series';
export { createSampleWireReader, type SeriesSample } from './sample-wire-reader';
export { usedPercent } from './used-percent';
export { normalizeSerial } from './certificate-serial';

// The runtime's YAML reading (size and node caps, line:column problems) and its capped file
// read: the control center reads its own YAML files (install configuration, requirement
// profiles, host lists, install files) the same way, with the same limits, rather than keep
// a second reader. They are not wire vocabulary, but this is the one door into the runtime.
export { readYaml, toValue, YAML_FILE_LIMITS, type ReadYaml, type YamlLimits, type YamlProblem } from '../yaml/read-yaml';
export { readCappedText, TextTooLargeError } from '../yaml/read-capped-text';
// The one locator of positions in YAML text (offset to line and column, a path to its node).
export { describePath, offsetOf, parseLocatedYaml, positionsFrom, type PathSegment, type YamlPosition } from '../yaml/locate-issue';

// Linux host readings the control center makes on its own machine as the runtime does on a
// managed one: which block devices are not disks (probe and sampler), the /proc parsers and
// which mounts are filesystems.
export { isVirtualBlockDevice, VIRTUAL_BLOCK_DEVICE_PREFIXES } from '../linux/block-devices';
export { parseDiskstats, parseMeminfo, parseNetDev, parseProcStat, type ByteCounters, type MemInfo } from '../linux/proc-parsers';
export { filesystemSpace, parseMounts, type Mount, type StatfsResult } from '../linux/mounts';
// The runtime's kept-open /proc file (pread at 0 each tick): the control center's own-machine sampler reads the same files every second.
export { ProcTextFile } from '../metrics/proc-files';

// The manifest's reader and the runtime's own comparison of two manifests: the control
// center's plan says which processes an apply restarts by the same rule UpdateManifest acts on.
export { parseManifest } from '../manifest/parse-manifest';
export { diffManifests, type ChangedProcess, type ManifestDiff, type ScaledProcess } from '../manifest/manifest-diff';
export { manifestVersionOf } from '../manifest/manifest-version';

// The audit log's hash chain and its verification (issue 14, item 6): the control center's
// log and each runtime's own are one format, so one verifier reads both.
export { auditHash, GENESIS_HASH, type AuditFields } from '../audit/audit-chain';
export { AUDIT_LOG_FILE, parseAuditRow, verifyAuditText } from '../audit/audit-text';
export { orderSegments, verifyAuditSegments, type KeptChainStart, type SegmentsVerification } from '../audit/audit-segments';
export {
  verifyAuditRows,
  type AuditAnchor,
  type AuditBreakKind,
  type AuditRow,
  type AuditRowSource,
  type AuditVerification,
} from '../audit/verify-audit-chain';
