import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyMessage,
  type ClientMessage,
  EcpError,
  encodeMessage,
  LineDecoder,
  MessageError,
  type ParseResult,
  parseClientMessage,
  parseServerMessage,
  type ServerMessage,
  stringifyAscii,
} from '../../protocol/index.ts';

// Strings that stress JSON encoding: any code point, plus newlines, quotes, backslashes, the JS line
// separators, NUL and lone surrogates (which JSON.stringify escapes).
const text = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('\n', '\r', '\r\n', '"', '\\', '\u2028', '\u2029', '\u0000', '/'),
    },
    { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', '\ud83d') },
  ),
  maxLength: 40,
});

const handshake = fc.record({
  type: fc.constant('handshake' as const),
  username: text,
  server_password: text,
  public_key: text,
});
const clientChat = fc.record({
  type: fc.constant('message' as const),
  message: text,
  encrypted: fc.boolean(),
});
const authError = fc.record({ type: fc.constant('auth_error' as const), message: text });
const system = fc.record({ type: fc.constant('system' as const), message: text });
const keyExchange = fc.record({ type: fc.constant('key_exchange' as const), encrypted_key: text });
const userList = fc.record({
  type: fc.constant('user_list' as const),
  users: fc.array(text, { maxLength: 8 }),
});
const serverChat = fc.record({
  type: fc.constant('message' as const),
  sender: text,
  message: text,
  encrypted: fc.boolean(),
});

const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(handshake, clientChat);
const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  authError,
  system,
  keyExchange,
  userList,
  serverChat,
);

function parsed<T>(result: ParseResult<T>): T {
  if (!result.ok) throw new Error(`expected a message, got ${result.error.code}: ${result.error.message}`);
  return result.message;
}

function failure<T>(result: ParseResult<T>): MessageError {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.message)}`);
  expect(result.error).toBeInstanceOf(MessageError);
  expect(result.error).toBeInstanceOf(EcpError);
  return result.error;
}

function expectOneLine(line: string): void {
  expect(line.endsWith('\n')).toBe(true);
  expect(line.indexOf('\n')).toBe(line.length - 1);
  expect(line).not.toContain('\r');
  // Printable ASCII only: the prototype's client decodes each 1024-byte read on its own.
  expect(line.slice(0, -1)).toMatch(/^[\x20-\x7f]*$/);
}

/**
 * JSON as the Python prototype writes it: `json.dumps` defaults, i.e. separators ", " and ": " and
 * every non-ASCII UTF-16 unit escaped as a lowercase \uXXXX.
 */
function pythonDumps(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value).replace(
      /[\u0080-\uffff]/g,
      (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([key, item]) => `${pythonDumps(key)}: ${pythonDumps(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

describe('encodeMessage and parse: round trips', () => {
  it('client messages: encode then parseClientMessage yields the same message (property)', () => {
    fc.assert(
      fc.property(clientMessage, (message) => {
        const line = encodeMessage(message);
        expectOneLine(line);
        expect(parsed(parseClientMessage(line.slice(0, -1)))).toEqual(message);
      }),
      { numRuns: 1000 },
    );
  });

  it('server messages: encode then parseServerMessage yields the same message (property)', () => {
    fc.assert(
      fc.property(serverMessage, (message) => {
        const line = encodeMessage(message);
        expectOneLine(line);
        expect(parsed(parseServerMessage(line.slice(0, -1)))).toEqual(message);
      }),
      { numRuns: 1000 },
    );
  });

  it('an encoded line survives the line decoder unchanged, split anywhere (property)', () => {
    fc.assert(
      fc.property(fc.oneof(clientMessage, serverMessage), fc.nat(), (message: AnyMessage, cut) => {
        const bytes = Buffer.from(encodeMessage(message), 'utf8');
        const at = cut % (bytes.length + 1);
        const decoder = new LineDecoder();
        const lines = [...decoder.push(bytes.subarray(0, at)), ...decoder.push(bytes.subarray(at))];
        expect(lines).toEqual([encodeMessage(message).slice(0, -1)]);
      }),
      { numRuns: 300 },
    );
  });

  it('prototype-style JSON parses to the same messages (property)', () => {
    fc.assert(
      fc.property(clientMessage, (message) => {
        expect(parsed(parseClientMessage(pythonDumps(message)))).toEqual(message);
      }),
    );
    fc.assert(
      fc.property(serverMessage, (message) => {
        expect(parsed(parseServerMessage(pythonDumps(message)))).toEqual(message);
      }),
    );
  });

  it('writes the type first and then the fields in a fixed order, and nothing else', () => {
    const cases: Array<[AnyMessage & Record<string, unknown>, string]> = [
      [
        { public_key: 'K', type: 'handshake', server_password: 'P', username: 'U', extra: 1 },
        '{"type":"handshake","username":"U","server_password":"P","public_key":"K"}',
      ],
      [
        { encrypted: false, message: 'hi', type: 'message' },
        '{"type":"message","message":"hi","encrypted":false}',
      ],
      [
        { encrypted: true, message: 'm', sender: 'alice', type: 'message', extra: 'x' },
        '{"type":"message","sender":"alice","message":"m","encrypted":true}',
      ],
      [{ message: 'no', type: 'auth_error', sender: 'x' }, '{"type":"auth_error","message":"no"}'],
      [{ message: 'hi', type: 'system' }, '{"type":"system","message":"hi"}'],
      [{ encrypted_key: 'QUJD', type: 'key_exchange' }, '{"type":"key_exchange","encrypted_key":"QUJD"}'],
      [{ users: ['a', 'b'], type: 'user_list', count: 2 }, '{"type":"user_list","users":["a","b"]}'],
      [{ users: [], type: 'user_list' }, '{"type":"user_list","users":[]}'],
    ];
    for (const [message, json] of cases) expect(encodeMessage(message)).toBe(`${json}\n`);
  });

  it('escapes newlines inside strings, and every non-ASCII UTF-16 unit as \\uXXXX like the prototype', () => {
    const line = encodeMessage({ type: 'system', message: 'a\nb\r\nc 😀 ü\u2028' });
    expect(line).toBe('{"type":"system","message":"a\\nb\\r\\nc \\ud83d\\ude00 \\u00fc\\u2028"}\n');
    expectOneLine(line);
  });
});

describe('stringifyAscii', () => {
  it('is JSON.stringify for ASCII-only values', () => {
    const value = { a: 'plain "quoted" \\ text\n', b: [1, true, null], c: { d: 'x' } };
    expect(stringifyAscii(value)).toBe(JSON.stringify(value));
  });

  it('escapes each non-ASCII UTF-16 unit in lowercase, as Python json.dumps does', () => {
    expect(stringifyAscii('é€😀\ud800')).toBe('"\\u00e9\\u20ac\\ud83d\\ude00\\ud800"');
    expect(stringifyAscii(['山田', { ключ: 'ü' }])).toBe(
      '["\\u5c71\\u7530",{"\\u043a\\u043b\\u044e\\u0447":"\\u00fc"}]',
    );
  });

  it('is JSON.stringify for any string of ASCII, quotes, backslashes and controls included (property)', () => {
    const ascii = fc.string({
      unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)),
    });
    fc.assert(
      fc.property(ascii, (value) => {
        expect(stringifyAscii(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
    expect(stringifyAscii('gAAAAABn+/A=')).toBe('"gAAAAABn+/A="');
    expect(stringifyAscii('a"b\\c\u007f')).toBe(JSON.stringify('a"b\\c\u007f'));
  });

  it('gives ASCII JSON that parses back to the same value (property)', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'small' }), (json) => {
        const value: unknown = JSON.parse(json);
        const ascii = stringifyAscii(value);
        expect(ascii).toMatch(/^[\x20-\x7f]*$/);
        // Compared as JSON text: -0 becomes 0 in any JSON round trip.
        expect(JSON.stringify(JSON.parse(ascii))).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(JSON.parse(stringifyAscii(value))).toBe(value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parsing what the Python prototype sends', () => {
  it.each([
    [
      '{"type": "system", "message": "Welcome alice! Establishing secure connection..."}',
      { type: 'system', message: 'Welcome alice! Establishing secure connection...' },
    ],
    [
      '{"type": "user_list", "users": ["alice", "b\\u00f6b", "\\u5c71\\u7530"]}',
      { type: 'user_list', users: ['alice', 'böb', '山田'] },
    ],
    [
      '{"type": "message", "sender": "al\\u00efce \\ud83d\\ude00", "message": "Z0FBQUFBQmw=", "encrypted": true}',
      { type: 'message', sender: 'alïce 😀', message: 'Z0FBQUFBQmw=', encrypted: true },
    ],
    [
      '{"type": "key_exchange", "encrypted_key": "QUJD+/=="}',
      { type: 'key_exchange', encrypted_key: 'QUJD+/==' },
    ],
    [
      '{"type": "auth_error", "message": "Invalid server password"}',
      { type: 'auth_error', message: 'Invalid server password' },
    ],
  ])('server line %s', (line, expected) => {
    expect(parsed(parseServerMessage(line))).toEqual(expected);
  });

  it.each([
    [
      '{"type": "handshake", "username": "bob", "server_password": "secret123", "public_key": "-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----\\n"}',
      {
        type: 'handshake',
        username: 'bob',
        server_password: 'secret123',
        public_key: '-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n',
      },
    ],
    [
      '{"type": "message", "message": "caf\\u00e9 \\u2764", "encrypted": false}',
      { type: 'message', message: 'café ❤', encrypted: false },
    ],
  ])('client line %s', (line, expected) => {
    expect(parsed(parseClientMessage(line))).toEqual(expected);
  });

  it('tolerates surrounding whitespace, a trailing newline and CRLF', () => {
    expect(parsed(parseServerMessage('  {"type": "system", "message": "x"}\r\n'))).toEqual({
      type: 'system',
      message: 'x',
    });
  });
});

describe('extra fields', () => {
  it('are ignored and not carried over into the message', () => {
    const message = parsed(
      parseServerMessage(
        '{"type": "system", "message": "hi", "sender": "x", "extra": {"a": [1]}, "users": 3}',
      ),
    );
    expect(message).toEqual({ type: 'system', message: 'hi' });
    expect(Object.keys(message)).toEqual(['type', 'message']);
  });

  it('a client-sent sender is dropped from a client chat message', () => {
    const message = parsed(
      parseClientMessage('{"type": "message", "sender": "mallory", "message": "m", "encrypted": true}'),
    );
    expect(message).toEqual({ type: 'message', message: 'm', encrypted: true });
    expect('sender' in message).toBe(false);
  });

  it('are ignored even when they have a wrong type or look like prototype keys', () => {
    const message = parsed(
      parseClientMessage(
        '{"type": "handshake", "username": "u", "server_password": "p", "public_key": "k", "constructor": 1, "__proto__": {"admin": true}}',
      ),
    );
    expect(message).toEqual({ type: 'handshake', username: 'u', server_password: 'p', public_key: 'k' });
    expect((message as unknown as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('malformed lines', () => {
  type Direction = 'client' | 'server';
  const parse = (direction: Direction, line: string): ParseResult<AnyMessage> =>
    direction === 'client' ? parseClientMessage(line) : parseServerMessage(line);

  function expectError(
    direction: Direction,
    line: string,
    code: string,
    field: string | undefined,
  ): MessageError {
    const error = failure(parse(direction, line));
    expect({ code: error.code, field: error.field }).toEqual({ code, field });
    return error;
  }

  const bothDirections: Direction[] = ['client', 'server'];

  it.each([
    'not json',
    '',
    '{',
    '{"type": "system", "message": "x"',
    "{'type': 'system', 'message': 'x'}",
    '{"type": "system", "message": "x"} trailing',
    'NaN',
    '{"type": "system", "message": "x",}',
  ])('not JSON: %j', (line) => {
    for (const direction of bothDirections) expectError(direction, line, 'ECP_INVALID_JSON', undefined);
  });

  it.each([
    ['an array', '[{"type": "system", "message": "x"}]'],
    ['an empty array', '[]'],
    ['a number', '42'],
    ['null', 'null'],
    ['a string', '"system"'],
    ['a boolean', 'true'],
  ])('not an object: %s', (_name, line) => {
    for (const direction of bothDirections) expectError(direction, line, 'ECP_NOT_AN_OBJECT', undefined);
  });

  it.each([
    '{}',
    '{"message": "x", "encrypted": true}',
    '{"Type": "system", "message": "x"}',
    // JSON.parse makes "__proto__" an own key; "type" must not be found through it.
    '{"__proto__": {"type": "system", "message": "x"}}',
  ])('missing type: %s', (line) => {
    for (const direction of bothDirections) expectError(direction, line, 'ECP_MISSING_FIELD', 'type');
  });

  it.each([
    '{"type": 1}',
    '{"type": null, "message": "x"}',
    '{"type": true}',
    '{"type": ["system"], "message": "x"}',
    '{"type": {"name": "system"}, "message": "x"}',
  ])('type not a string: %s', (line) => {
    for (const direction of bothDirections) expectError(direction, line, 'ECP_WRONG_FIELD_TYPE', 'type');
  });

  it.each([
    ['client', 'chat'],
    ['client', ''],
    ['client', 'Message'],
    ['client', 'HANDSHAKE'],
    ['client', ' handshake'],
    ['client', 'user_list'],
    ['client', 'system'],
    ['client', 'auth_error'],
    ['client', 'key_exchange'],
    ['server', 'handshake'],
    ['server', 'chat'],
    ['server', 'System'],
  ] as Array<[Direction, string]>)('unknown type for a %s: %j', (direction, type) => {
    // All fields of every type are present, so only the type can be wrong.
    const line = JSON.stringify({
      type,
      username: 'u',
      server_password: 'p',
      public_key: 'k',
      message: 'm',
      encrypted: true,
      sender: 's',
      encrypted_key: 'e',
      users: [],
    });
    const error = expectError(direction, line, 'ECP_UNKNOWN_TYPE', 'type');
    expect(error.message).toContain(`'${type}'`);
  });

  it.each([
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
  ])('an Object.prototype name as type is unknown, not a crash: %s', (type) => {
    for (const direction of bothDirections) {
      expectError(
        direction,
        JSON.stringify({ type, message: 'm', encrypted: true }),
        'ECP_UNKNOWN_TYPE',
        'type',
      );
    }
  });

  // A valid example of every type, per direction, to take fields away from or spoil.
  const examples: Array<[Direction, Record<string, unknown>]> = [
    ['client', { type: 'handshake', username: 'u', server_password: 'p', public_key: 'k' }],
    ['client', { type: 'message', message: 'm', encrypted: true }],
    ['server', { type: 'auth_error', message: 'm' }],
    ['server', { type: 'system', message: 'm' }],
    ['server', { type: 'key_exchange', encrypted_key: 'e' }],
    ['server', { type: 'user_list', users: ['a', 'b'] }],
    ['server', { type: 'message', sender: 's', message: 'm', encrypted: false }],
  ];
  const fieldCases = examples.flatMap(([direction, example]) =>
    Object.keys(example)
      .filter((field) => field !== 'type')
      .map((field) => [direction, example.type as string, field, example] as const),
  );

  it('the examples themselves are valid', () => {
    for (const [direction, example] of examples) {
      expect(parsed(parse(direction, JSON.stringify(example)))).toEqual(example);
    }
    expect(fieldCases.length).toBe(12);
  });

  it.each(fieldCases)('%s %s without %s: missing field', (direction, _type, field, example) => {
    const { [field]: _removed, ...rest } = example;
    const error = expectError(direction, JSON.stringify(rest), 'ECP_MISSING_FIELD', field);
    expect(error.message).toContain(field);
  });

  const wrongValues: Record<string, unknown[]> = {
    string: [1, 0, true, false, null, [], ['x'], {}, { text: 'x' }],
    boolean: ['true', 'false', 1, 0, null, [], {}, [true]],
    users: ['alice', ['alice', 2], [1], [null], ['a', ['b']], [{}], [true], {}, { 0: 'a' }, null, 3],
  };

  it.each(fieldCases)('%s %s with a wrongly typed %s', (direction, _type, field, example) => {
    const kind = field === 'users' ? 'users' : typeof example[field];
    const values = wrongValues[kind];
    expect(values, kind).toBeDefined();
    for (const value of values ?? []) {
      const line = pythonDumps({ ...example, [field]: value });
      const error = expectError(direction, line, 'ECP_WRONG_FIELD_TYPE', field);
      expect(error.message).toContain(field);
    }
  });

  it('names the first missing field in the order the type defines', () => {
    expectError('client', '{"type": "handshake"}', 'ECP_MISSING_FIELD', 'username');
    expectError('client', '{"type": "handshake", "username": "u"}', 'ECP_MISSING_FIELD', 'server_password');
    expectError('server', '{"type": "message", "message": "m"}', 'ECP_MISSING_FIELD', 'sender');
  });

  it('does not take a required field from a "__proto__" key', () => {
    expectError(
      'server',
      '{"type": "system", "__proto__": {"message": "x"}}',
      'ECP_MISSING_FIELD',
      'message',
    );
  });

  it('never throws, whatever the line (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (line) => {
        for (const result of [parseClientMessage(line), parseServerMessage(line)]) {
          if (!result.ok) expect(result.error).toBeInstanceOf(MessageError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
