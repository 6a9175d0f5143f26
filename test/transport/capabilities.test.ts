import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { capabilitiesOf, fastReceive, rawAccess } from '../../transport/capabilities.ts';
import type { Connection } from '../../transport/connection.ts';

/** A Connection made by no transport here (as a test double or another transport would be). */
function bareConnection(): Connection {
  return Object.assign(new EventEmitter(), {
    transport: 'ws',
    peer: '127.0.0.1:4000',
  }) as unknown as Connection;
}

describe('connection capabilities', () => {
  it('says which capability a connection lacks, and where', () => {
    const connection = bareConnection();
    expect(capabilitiesOf(connection)).toEqual({});
    expect(() => rawAccess(connection)).toThrow(
      expect.objectContaining({
        code: 'ECP_UNSUPPORTED',
        message: 'the ws:// connection to 127.0.0.1:4000 offers no raw access',
      }),
    );
    expect(() => fastReceive(connection)).toThrow(
      expect.objectContaining({ code: 'ECP_UNSUPPORTED', message: expect.stringContaining('fast receive') }),
    );
  });
});
