import { describe, expect, it } from 'vitest';
import {
  describeClose,
  redactPasswords,
  sealedTextNote,
} from '../../../conformance/support/transcript-notes.ts';
import { Fernet, sealText } from '../../../protocol/index.ts';

describe('transcript notes', () => {
  it('never shows a password, and says whether it was the right one', () => {
    const line = (password: string) =>
      JSON.stringify({ type: 'handshake', username: 'a', server_password: password });
    expect(redactPasswords(line('s3cret'), 's3cret')).toBe(
      '{"type":"handshake","username":"a","server_password":"<redacted: the server password>"}',
    );
    const wrong = redactPasswords(line('s3cret "quoted"'), 'other');
    expect(wrong).toContain('<redacted: a wrong password>');
    expect(wrong).not.toContain('s3cret');
  });

  it('shows the text inside a sealed chat message when the room key opens it', () => {
    const key = new Fernet(Fernet.generateKey());
    const sent = JSON.stringify({ type: 'message', message: sealText(key, 'hello'), encrypted: true });
    expect(sealedTextNote(sent, key)).toBe('encrypted text: "hello"');
    expect(sealedTextNote(sent, undefined)).toBeUndefined();
    expect(sealedTextNote('not json', key)).toBeUndefined();
  });

  it('says how a connection ended', () => {
    expect(describeClose({ error: undefined, closeCode: 1008, closeReason: 'policy' })).toBe(
      'the connection closed (WebSocket close code 1008: policy)',
    );
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(describeClose({ error: reset, closeCode: undefined, closeReason: undefined })).toBe(
      'connection error ECONNRESET',
    );
    expect(describeClose({ error: undefined, closeCode: undefined, closeReason: undefined })).toBe(
      'the connection closed',
    );
  });
});
