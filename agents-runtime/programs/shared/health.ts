/**
 * grpc.health.v1 for the reference programs: Check, and Watch (the current status, then
 * every change, until the client cancels). Service "" is the whole program; other known
 * service names answer the same status; an unknown name is NOT_FOUND (Check) or
 * SERVICE_UNKNOWN (Watch), as the protocol says.
 */
import { status as grpcStatus, type Server, type ServerWritableStream } from '@grpc/grpc-js';
import type { HealthCheckRequest__Output } from '../../src/generated/grpc/health/v1/HealthCheckRequest';
import type { HealthCheckResponse } from '../../src/generated/grpc/health/v1/HealthCheckResponse';
import type { ProgramProtos } from './protos';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export class HealthState {
  private current: ServingStatus = 'NOT_SERVING';
  private closing = false;
  private readonly watchers = new Set<() => void>();

  constructor(private readonly services: readonly string[] = ['']) {}

  get status(): ServingStatus {
    return this.current;
  }

  set(status: ServingStatus): boolean {
    if (status === this.current) return false;
    this.current = status;
    for (const notify of [...this.watchers]) notify();
    return true;
  }

  /** Ends every Watch stream (shutdown: a server cannot finish while streams are open). */
  endWatches(): void {
    this.closing = true;
    for (const notify of [...this.watchers]) notify();
  }

  addTo(server: Server, protos: ProgramProtos): void {
    server.addService(protos.grpc.health.v1.Health.service, {
      Check: (
        call: { request: HealthCheckRequest__Output },
        callback: (error: { code: number; details: string } | null, value?: HealthCheckResponse) => void,
      ) => {
        if (!this.services.includes(call.request.service)) {
          callback({ code: grpcStatus.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
          return;
        }
        callback(null, { status: this.current });
      },
      Watch: (call: ServerWritableStream<HealthCheckRequest__Output, HealthCheckResponse>) => {
        const known = this.services.includes(call.request.service);
        let last: string | undefined;
        const send = (): void => {
          if (this.closing) {
            cleanup();
            call.end();
            return;
          }
          const now = known ? this.current : 'SERVICE_UNKNOWN';
          if (now === last) return;
          last = now;
          call.write({ status: now });
        };
        const cleanup = (): void => {
          this.watchers.delete(send);
        };
        this.watchers.add(send);
        call.on('cancelled', cleanup);
        call.on('close', cleanup);
        send();
      },
    });
  }
}
