import type { FleetProcesses } from '../fleet/processes/fleet-processes';
import type { EventSources, MethodHandlers } from '../server/dispatcher';

export interface FleetProcessApiDeps {
  fleetProcesses: FleetProcesses;
}

type FleetProcessMethod = 'fleet.processes' | 'fleet.start' | 'fleet.stop' | 'fleet.restart' | 'fleet.scale' | 'fleet.logs';

/** Process control and logs of the installed hosts; each action is recorded with the caller's pipe as its actor. */
export function createFleetProcessHandlers({ fleetProcesses }: FleetProcessApiDeps): Pick<MethodHandlers, FleetProcessMethod> {
  return {
    'fleet.processes': ({ hostId }) => fleetProcesses.table(hostId),
    'fleet.start': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'start', caller.actor),
    'fleet.stop': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'stop', caller.actor),
    'fleet.restart': ({ hostId, process }, caller) => fleetProcesses.act(hostId, process, 'restart', caller.actor),
    'fleet.scale': ({ hostId, process, replicas }, caller) => fleetProcesses.scale(hostId, process, replicas, caller.actor),
    'fleet.logs': (params) => fleetProcesses.logs(params),
  };
}

export function createFleetProcessSources({ fleetProcesses }: FleetProcessApiDeps): Pick<EventSources, 'fleet.logFollow'> {
  return {
    'fleet.logFollow': (params, emit) => fleetProcesses.follow(params, emit),
  };
}
