import type { FleetProcesses } from '../fleet/processes/fleet-processes';
import { whoActs, type Caller, type EventSources, type MethodHandlers } from '../server/dispatcher';

export interface FleetProcessApiDeps {
  fleetProcesses: FleetProcesses;
}

type FleetProcessMethod = 'fleet.processes' | 'fleet.start' | 'fleet.stop' | 'fleet.restart' | 'fleet.scale' | 'fleet.logs';

/** Process control and logs of the installed hosts; each action is recorded with who asked (the operator and its pipe). */
export function createFleetProcessHandlers({ fleetProcesses }: FleetProcessApiDeps): Pick<MethodHandlers, FleetProcessMethod> {
  return {
    'fleet.processes': ({ hostId }) => fleetProcesses.table(hostId),
    'fleet.start': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'start', whoActs(caller), operatorOf(caller)),
    'fleet.stop': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'stop', whoActs(caller), operatorOf(caller)),
    'fleet.restart': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'restart', whoActs(caller), operatorOf(caller)),
    'fleet.scale': ({ hostId, process, replicas }, caller) =>
      fleetProcesses.scale(hostId, process, replicas, whoActs(caller), operatorOf(caller)),
    'fleet.logs': (params, caller) => fleetProcesses.logs({ ...params, operator: operatorOf(caller) }),
  };
}

/** The operator signed in on the pipe, whose token the runtime call carries; none before operators exist. */
function operatorOf(caller: Caller): string | null {
  return caller.operator?.name ?? null;
}

export function createFleetProcessSources({ fleetProcesses }: FleetProcessApiDeps): Pick<EventSources, 'fleet.logFollow'> {
  return {
    'fleet.logFollow': (params, emit, caller) => fleetProcesses.follow({ ...params, operator: operatorOf(caller) }, emit),
  };
}
