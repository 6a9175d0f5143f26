import { describe, expect, it } from 'vitest';
import {
  extractRequirements,
  formatRequirement,
  isCheckableOnServer,
  requirementIdsOf,
  requirementsInSection,
} from '../../conformance/requirements.ts';

describe('requirement lines', () => {
  const markdown = [
    '# Title',
    '## 4. Handshake',
    '- [ECP-HS-03] SHOULD (server): The join sequence comes in order.',
    '### 13.4 Requirements',
    '- [ECP-SEC-01] MUST NOT (server): Nothing for members reaches others.',
    'Some prose that mentions [ECP-HS-03] MUST (server): but is not a requirement line.',
    '## Appendix A: not numbered',
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
        line: 3,
        section: '4',
      },
      {
        id: 'ECP-SEC-01',
        level: 'MUST NOT',
        party: 'server',
        text: 'Nothing for members reaches others.',
        line: 5,
        section: '13.4',
      },
      {
        id: 'ECP-KX-01',
        level: 'MUST',
        party: 'client',
        text: 'The client makes a key.',
        line: 8,
        section: '',
      },
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

  it('selects by section number (with its subsections), by area and by ID', () => {
    const all = extractRequirements(markdown);
    const ids = (section: string) => requirementsInSection(all, section).map((item) => item.id);
    expect(ids('4')).toEqual(['ECP-HS-03']);
    expect(ids('13')).toEqual(['ECP-SEC-01']);
    expect(ids('13.4')).toEqual(['ECP-SEC-01']);
    expect(ids('1')).toEqual([]);
    expect(ids('ECP-KX')).toEqual(['ECP-KX-01']);
    expect(ids('sec')).toEqual(['ECP-SEC-01']);
    expect(ids('ECP-HS-03')).toEqual(['ECP-HS-03']);
  });
});
