import { describe, expect, it } from 'vitest';
import { ClientError } from '../../reference-client/index.ts';
import { shouldUseColor, TerminalFormat } from '../../reference-client/terminal-format.ts';

const time = new Date(2024, 0, 2, 3, 4, 5);
const plain = new TerminalFormat({ color: false });
const coloured = new TerminalFormat({ color: true });

describe('TerminalFormat', () => {
  it('stamps lines with local [HH:MM:SS]', () => {
    expect(plain.timestamp(time)).toBe('[03:04:05]');
  });

  it('shows decrypted text, marks plaintext, and never shows an undecryptable payload as text', () => {
    const base = { sender: 'bob', own: false, time };
    expect(plain.message({ ...base, kind: 'encrypted', text: 'hi', key: 'current' })).toBe(
      '[03:04:05] bob: hi',
    );
    expect(plain.message({ ...base, kind: 'plaintext', text: 'hi' })).toBe(
      '[03:04:05] bob (unencrypted): hi',
    );
    const line = plain.message({
      ...base,
      kind: 'undecryptable',
      payload: 'aGVsbG8=',
      reason: 'ECP_INVALID_TOKEN',
    });
    expect(line).toBe('[03:04:05] bob: [could not decrypt this message: ECP_INVALID_TOKEN]');
    expect(line).not.toContain('aGVsbG8=');
  });

  it('sets system notices and the user list apart with *', () => {
    expect(plain.system({ text: 'bob has joined the chat', time })).toBe(
      '[03:04:05] * bob has joined the chat',
    );
    expect(plain.users(['alice', 'bob'], time)).toBe('[03:04:05] * Users (2): alice, bob');
    expect(plain.users(['alice'], time, { joined: [], left: ['bob'] })).toBe(
      '[03:04:05] * Users (1): alice  -bob',
    );
  });

  it('reports protocol errors and closes', () => {
    const error = new ClientError(
      'ECP_PROTOCOL_ERROR',
      'ignored a line from the server: line is not valid JSON',
      {
        detail: 'ECP_INVALID_JSON',
      },
    );
    expect(plain.protocolError({ error, line: 'x', time })).toBe(
      '[03:04:05] ! ignored a line from the server: line is not valid JSON (ECP_INVALID_JSON)',
    );
    expect(plain.closed({ reason: 'closed by client', byClient: true, error: undefined, time })).toBe(
      '[03:04:05] * Disconnected: closed by client',
    );
  });

  it('colours only when asked, keeping each name the same colour', () => {
    const message = {
      sender: 'bob',
      own: false,
      time,
      kind: 'encrypted',
      text: 'hi',
      key: 'current',
    } as const;
    expect(plain.message(message)).not.toContain('\u001b[');
    expect(coloured.message(message)).toContain('\u001b[');
    expect(coloured.message(message)).toBe(coloured.message({ ...message, text: 'hi' }));
    expect(coloured.system({ text: 'x', time })).toContain('\u001b[2m* x');
  });

  it('uses colour on a TTY unless NO_COLOR is set', () => {
    expect(shouldUseColor({ isTTY: true }, {})).toBe(true);
    expect(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor({ isTTY: false }, {})).toBe(false);
    expect(shouldUseColor({}, {})).toBe(false);
  });
});
