import { describe, expect, it } from 'vitest';
import { clientsPerEndpoint, endpointOfClient } from '../../bench/endpoint-spread.ts';
import type { Endpoint } from '../../transport/index.ts';

const tcp = (port: number): Endpoint => ({ transport: 'tcp', host: '127.0.0.1', port, path: '' });

describe('the spread of load clients over endpoints', () => {
  it('is round robin by client index', () => {
    expect(Array.from({ length: 7 }, (_, client) => endpointOfClient(client, 3))).toEqual([
      0, 1, 2, 0, 1, 2, 0,
    ]);
  });

  it('puts every client on the one endpoint of a single server', () => {
    expect(Array.from({ length: 4 }, (_, client) => endpointOfClient(client, 1))).toEqual([0, 0, 0, 0]);
  });

  it('counts each endpoint its share, the first ones one more when the clients do not divide evenly', () => {
    expect(clientsPerEndpoint([tcp(8881), tcp(8882)], 100)).toEqual([
      { url: 'tcp://127.0.0.1:8881', clients: 50 },
      { url: 'tcp://127.0.0.1:8882', clients: 50 },
    ]);
    expect(clientsPerEndpoint([tcp(1), tcp(2), tcp(3)], 7).map((item) => item.clients)).toEqual([3, 2, 2]);
    expect(clientsPerEndpoint([tcp(1), tcp(2), tcp(3)], 2).map((item) => item.clients)).toEqual([1, 1, 0]);
  });
});
