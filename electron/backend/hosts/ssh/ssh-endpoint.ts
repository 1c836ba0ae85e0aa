/** Where a connection goes, as an error message names it. */
export interface SshEndpoint {
  name: string;
  address: string;
  port: number;
  /** Set when this is a jump host: the name of the host it was opened for. */
  jumpFor?: string;
}

export function endpointOf(host: { name: string; address: string; port: number }, jumpFor?: string): SshEndpoint {
  return jumpFor === undefined
    ? { name: host.name, address: host.address, port: host.port }
    : { name: host.name, address: host.address, port: host.port, jumpFor };
}

/** `host db-2 (198.18.0.5:22)`, or `jump host gw (198.18.0.1:22) for db-2`; IPv6 in brackets. */
export function describeEndpoint(endpoint: SshEndpoint): string {
  const address = endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address;
  const where = `${endpoint.name} (${address}:${endpoint.port})`;
  return endpoint.jumpFor === undefined ? `host ${where}` : `jump host ${where} for ${endpoint.jumpFor}`;
}
