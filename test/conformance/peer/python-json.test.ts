import { describe, expect, it } from 'vitest';
import { pythonJson } from '../../../conformance/peer/index.ts';

describe('pythonJson', () => {
  it("writes json.dumps' separators and escapes every non-ASCII character, surrogate pairs as two", () => {
    const message = { type: 'user_list', users: ['zoë', '日本', '😀'], n: 1, ok: true, none: null };
    const text = pythonJson(message);
    expect(text).toBe(
      '{"type": "user_list", "users": ["zo\\u00eb", "\\u65e5\\u672c", "\\ud83d\\ude00"], "n": 1, "ok": true, "none": null}',
    );
    expect(JSON.parse(text)).toEqual(message);
  });

  it('escapes what JSON requires, as JSON.stringify does', () => {
    expect(pythonJson({ text: 'a "quote", a \\ and a\nnewline' })).toBe(
      '{"text": "a \\"quote\\", a \\\\ and a\\nnewline"}',
    );
  });
});
