import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openTarget, type Target } from '../../server-under-test/index.ts';

const ANNOUNCING_SERVER = fileURLToPath(new URL('fixtures/announcing-server.mjs', import.meta.url));
const COMMAND = `"${process.execPath}" "${ANNOUNCING_SERVER}" {port}`;

/** Opens a connection and waits for the server's `ok N`: by then it has printed `connection N opened`. */
async function connectAndWaitForOk(target: Target): Promise<{ number: number; close(): void }> {
  const socket = connect(target.endpoint.port, '127.0.0.1');
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  const number = Number(/^ok (\d+)/.exec(chunk.toString())?.[1]);
  return { number, close: () => socket.destroy() };
}

describe("a spawned server's output", () => {
  let target: Target | undefined;
  afterEach(async () => {
    await target?.close();
    target = undefined;
  });

  it('holds, once settled, every line the server wrote before the kit asked', async () => {
    target = await openTarget({ kind: 'spawned', command: COMMAND, password: 'x' });
    for (let round = 0; round < 20; round += 1) {
      const before = await target.settleOutput();
      const client = await connectAndWaitForOk(target);
      // No waiting and no polling: what the server wrote before it answered must be there now.
      const after = await target.settleOutput();
      expect(target.outputBetween(before, after)).toContain(`connection ${client.number} opened\n`);
      client.close();
    }
  });

  it('is one log across restarts, each restart marked, with what the stopped server wrote last', async () => {
    target = await openTarget({ kind: 'spawned', command: COMMAND, password: 'x' });
    const before = await target.settleOutput();
    await target.restart();
    const after = await target.settleOutput();
    const text = target.outputBetween(before, after);
    expect(text).toMatch(/stopping\n--- restarted ---\n/);
    expect(target.serverOutput()).toContain(text);
  });
});

describe("an embedded server's output", () => {
  it('is settled as soon as it is written', async () => {
    const target = await openTarget({ kind: 'embedded' });
    try {
      const before = await target.settleOutput();
      const client = connect(target.endpoint.port, '127.0.0.1');
      client.end('not json\n');
      await once(client, 'close');
      const after = await target.settleOutput();
      expect(after).toBeGreaterThanOrEqual(before);
      expect(target.serverOutput()).toContain(target.outputBetween(before, after));
    } finally {
      await target.close();
    }
  });
});
