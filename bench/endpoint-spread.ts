/**
 * Which endpoint each load client connects to, when a room has several (listeners of one server,
 * or nodes of a cluster): round robin by client index, so every endpoint gets its share of the
 * clients and of the senders (the senders are the first clients).
 */
import { type Endpoint, formatEndpoint } from '../transport/index.ts';

/** The index, in the room's endpoints, of the endpoint client number `client` connects to. */
export function endpointOfClient(client: number, endpoints: number): number {
  return client % endpoints;
}

/** How many of `clients` clients each endpoint gets, for the report. */
export function clientsPerEndpoint(
  endpoints: readonly Endpoint[],
  clients: number,
): Array<{ url: string; clients: number }> {
  const counts = endpoints.map(() => 0);
  for (let client = 0; client < clients; client++) counts[endpointOfClient(client, endpoints.length)]! += 1;
  return endpoints.map((endpoint, index) => ({ url: formatEndpoint(endpoint), clients: counts[index]! }));
}
