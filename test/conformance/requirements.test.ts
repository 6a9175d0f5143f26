import { describe, expect, it } from 'vitest';
import {
  extractRequirements,
  formatRequirement,
  isCheckableOnServer,
  requirementIdsOf,
} from '../../conformance/requirements.ts';

describe('requirement lines', () => {
  const markdown = [
    '# Title',
    '- [ECP-HS-03] SHOULD (server): The join sequence comes in order.',
    '- [ECP-SEC-01] MUST NOT (server): Nothing for members reaches others.',
    'Some prose that mentions [ECP-HS-03] MUST (server): but is not a requirement line.',
    '- [ECP-KX-01] MUST (client): The client makes a key.',
    '- [ECP-X-1] MUST (server): a malformed ID is ignored',
  ].join('\n');

  it('extracts ID, level (MUST NOT before MUST), party, text and line', () => {
    expect(extractRequirements(markdown)).toEqual([
      {
        id: 'ECP-HS-03',
        level: 'SHOULD',
        party: 'server',
        text: 'The join sequence comes in order.',
        line: 2,
      },
      {
        id: 'ECP-SEC-01',
        level: 'MUST NOT',
        party: 'server',
        text: 'Nothing for members reaches others.',
        line: 3,
      },
      { id: 'ECP-KX-01', level: 'MUST', party: 'client', text: 'The client makes a key.', line: 5 },
    ]);
  });

  it('checks server MUSTs and SHOULDs only, and formats them as failures quote them', () => {
    const [should, mustNot, client] = extractRequirements(markdown);
    expect([should, mustNot, client].map((item) => isCheckableOnServer(item!))).toEqual([true, true, false]);
    expect(formatRequirement(mustNot!)).toBe(
      'ECP-SEC-01 MUST NOT (server): Nothing for members reaches others.',
    );
  });

  it('reads requirement IDs from scenario tags', () => {
    expect(requirementIdsOf(['@core', '@ECP-HS-02', '@ECP-CHAT-01', '@wip'])).toEqual([
      'ECP-HS-02',
      'ECP-CHAT-01',
    ]);
  });
});
