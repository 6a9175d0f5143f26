/**
 * The browser client under client conformance: the kit plays the room over ws:// and drives the
 * page in Chromium through test/web/conformance-driver.ts. Here a scenario of each kind a browser
 * meets (the join, a refusal, a key change both ways, a message in the clear, the server ending the
 * session); `npm run test:browser-conformance` runs every client scenario the same way.
 */
import { describe, expect, it } from 'vitest';
import { runClientConformance } from '../../conformance/client-runner.ts';
import { chromiumMissing } from './browser.ts';

const DRIVER = 'node --import tsx test/web/conformance-driver.ts {url} {username} {password}';

describe.skipIf(chromiumMissing !== undefined)(
  `the browser client under client conformance${chromiumMissing ? ` (${chromiumMissing})` : ''}`,
  () => {
    it('passes the join, refusal, key change, clear-text and session-end scenarios over ws://', {
      timeout: 240_000,
    }, async () => {
      const run = await runClientConformance({
        command: DRIVER,
        output: 'json',
        transport: 'ws',
        tags: '@ECP-HS-01 or @ECP-AUTH-07 or @ECP-KX-07 or @ECP-SEC-03 or @ECP-LV-05',
      });
      expect(
        run.scenarios.map((result) => [result.requirements.join(' '), result.name, result.status]),
      ).toEqual([
        ['ECP-KX-07', 'The client seals with a new room key sent mid-session', 'passed'],
        ['ECP-KX-07', 'The client decrypts with a new room key sent mid-session', 'passed'],
        ['ECP-LV-05', 'The client ends the session when the server drops the connection', 'passed'],
        ['ECP-SEC-03', 'The client tells its user that a message came in the clear', 'passed'],
        [
          'ECP-HS-01',
          "The client's first message is a handshake with its name, the password and its key",
          'passed',
        ],
        ['ECP-AUTH-07', 'A client refused for a wrong password is not a member', 'passed'],
      ]);
    });
  },
);
