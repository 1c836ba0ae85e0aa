/**
 * The messages a client of the runtime reads, as generated from agents-runtime/proto
 * (`npm run gen:proto`; the generated folder stays where the generator writes it).
 * `__Output` is what arrives: with `defaults: true` every field is present.
 */
export type { HealthCheckResponse__Output } from '../generated/grpc/health/v1/HealthCheckResponse';
export type { FilesystemMetrics__Output } from '../generated/sutazai/runtime/v1/FilesystemMetrics';
export type { GetInfoResponse__Output } from '../generated/sutazai/runtime/v1/GetInfoResponse';
export type { GpuMetrics__Output } from '../generated/sutazai/runtime/v1/GpuMetrics';
export type { HostFacts__Output } from '../generated/sutazai/runtime/v1/HostFacts';
export type { HostMetrics__Output } from '../generated/sutazai/runtime/v1/HostMetrics';
export type { InstanceMetrics__Output } from '../generated/sutazai/runtime/v1/InstanceMetrics';
export type { InstanceStatus__Output } from '../generated/sutazai/runtime/v1/InstanceStatus';
export type { LogLine__Output } from '../generated/sutazai/runtime/v1/LogLine';
export type { MetricSample__Output } from '../generated/sutazai/runtime/v1/MetricSample';
export type { ProcessState__Output } from '../generated/sutazai/runtime/v1/ProcessState';
export type { ProcessStatus__Output } from '../generated/sutazai/runtime/v1/ProcessStatus';
export type { RuntimeErrorInfo__Output } from '../generated/sutazai/runtime/v1/RuntimeErrorInfo';
export type { RuntimeEvent__Output } from '../generated/sutazai/runtime/v1/RuntimeEvent';
/** What the control center sends: every field optional, as proto3 inputs are. */
export type { SetAccessStateRequest } from '../generated/sutazai/runtime/v1/SetAccessStateRequest';
