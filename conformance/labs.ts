/**
 * The course labs: a sequence of milestones, each a page under docs/labs/ and a set of scenarios
 * tagged `@lab-N`. Every scenario belongs to exactly one lab, and the order is chosen so that a
 * server that does what labs 1..N teach passes labs 1..N: lab N's scenarios never need anything
 * a later lab teaches.
 *
 * Lab 1 is the hardest to place: before a server can admit anyone (that takes the key exchange
 * of lab 3) the only answer it can give is the refusal of a wrong password. So lab 1 is "read
 * lines, parse JSON, answer": a server that splits lines right, ignores what it cannot use and
 * refuses a wrong password with a well-formed auth_error passes it, which already proves framing
 * (a handshake sent one byte at a time, CRLF, any JSON encoding, garbage before it, a fragment
 * without a line feed). Lab 2 checks the rest of a handshake that ends in refusal; lab 3 admits.
 */

export interface Lab {
  number: number;
  /** The lab's name in file names and URLs: `framing-and-json`. */
  slug: string;
  title: string;
  /** What a server must do to pass it, in one sentence. */
  goal: string;
  /** The sections of docs/protocol.md the lab asks a student to read (`4.1` or a whole `4`). */
  sections: readonly string[];
  /** The lab's page, relative to the repository root. */
  page: string;
  /** Optional labs are not needed for a complete v1 server (TLS, WebSocket). */
  optional: boolean;
  /** A lab measured by `ecp bench` rather than by scenarios. */
  bench: boolean;
  /** What the student builds in it: a server (labs 1 to 10) or a client (the client track). */
  party: 'server' | 'client';
}

function lab(
  number: number,
  slug: string,
  title: string,
  goal: string,
  sections: readonly string[],
  flags: { optional?: boolean; bench?: boolean; party?: 'server' | 'client' } = {},
): Lab {
  return {
    number,
    slug,
    title,
    goal,
    sections,
    page: `docs/labs/${String(number).padStart(2, '0')}-${slug}.md`,
    optional: flags.optional ?? false,
    bench: flags.bench ?? false,
    party: flags.party ?? 'server',
  };
}

export const LABS: readonly Lab[] = [
  lab(
    1,
    'framing-and-json',
    'Framing and JSON',
    'Read lines from a byte stream however they are split, parse each as JSON, ignore what cannot be used, and refuse a wrong password with a well-formed auth_error.',
    ['1.3', '1.4', '2', '3', '5', '11'],
  ),
  lab(
    2,
    'handshake-and-password',
    'Handshake and password',
    'Check every handshake before admitting anyone: required fields, the exact password, the refusal texts; never repeat a password back.',
    ['4.1', '5', '11', '13'],
  ),
  lab(
    3,
    'key-exchange',
    'Key exchange',
    'Admit a valid handshake: one room key for the whole run, wrapped with RSA-OAEP (SHA-256) for each member; tell the members; refuse unusable keys.',
    ['4', '6'],
  ),
  lab(
    4,
    'relay-and-echo',
    'Relay and echo',
    'Relay each chat message to every other member, then echo it to its sender, with the sender set by the server and the payload untouched.',
    ['7'],
  ),
  lab(
    5,
    'user-list-and-notices',
    'User list and notices',
    'Keep every member informed: user lists in join order, join and leave notices, taken names, departures, a graceful shutdown.',
    ['4.2', '5', '8', '9', '10'],
  ),
  lab(
    6,
    'bad-input-and-limits',
    'Bad input and limits',
    'Survive every malformed line without disturbing anyone, and bound what one peer can cost: line length, handshake time, usernames, connections.',
    ['11', '12'],
  ),
  lab(
    7,
    'slow-readers-and-flow-control',
    'Slow readers and flow control',
    'Keep the room fast when one member stops reading: an output queue per member, partial writes, bursts, a bound on what is queued.',
    ['7.3', '12'],
  ),
  lab(
    8,
    'performance',
    'Performance',
    'Measure and improve broadcast throughput and latency with ecp bench.',
    [],
    { bench: true },
  ),
  lab(
    9,
    'tls',
    'TLS',
    'Serve the same protocol inside TLS 1.2 or later, and tell a plain client so.',
    ['13.3', '14.1'],
    {
      optional: true,
    },
  ),
  lab(
    10,
    'websocket',
    'WebSocket',
    'Serve the same protocol over WebSocket: one message per text frame, the ecp.v1 subprotocol, the close codes.',
    ['14.2'],
    { optional: true },
  ),
  // The client track: the kit plays the room (`ecp conformance --client`), the student writes the client.
  lab(
    11,
    'client-join-and-key',
    'Client: join and key',
    'Join a room: a handshake first with a fresh RSA-2048 key, a refusal taken as one, and (over TLS) only a server whose certificate checks out.',
    ['3', '4', '5', '6.1', '14.1'],
    { party: 'client' },
  ),
  lab(
    12,
    'client-chat-and-decrypt',
    'Client: room key, chat and decrypt',
    'Unwrap the room key, seal what the user types, show what others say, and never show a payload that fails to decrypt as text.',
    ['2', '6', '7', '13'],
    { party: 'client' },
  ),
  lab(
    13,
    'client-bad-input-and-key-changes',
    'Client: bad input and key changes',
    'Ignore what cannot be used, read lines however they are split, take a new room key at any time.',
    ['2', '3', '6', '10', '11.2'],
    { party: 'client' },
  ),
];

/** The tag that puts a scenario in lab `n`: `@lab-3`. */
export function labTag(n: number): string {
  return `@lab-${n}`;
}

const LAB_TAG = /^@lab-(\d+)$/;

/** Every lab number a scenario's tags name (a valid scenario names exactly one). */
export function labsOf(tags: readonly string[]): number[] {
  return tags.flatMap((tag) => {
    const match = LAB_TAG.exec(tag);
    return match ? [Number(match[1])] : [];
  });
}

/** The one lab among a scenario's tags, or undefined when it has none or several. */
export function labOf(tags: readonly string[]): number | undefined {
  const found = labsOf(tags);
  return found.length === 1 ? found[0] : undefined;
}

export function findLab(n: number): Lab | undefined {
  return LABS.find((item) => item.number === n);
}

/**
 * The labs `--lab N` selects: N and every lab of its track (server or client) before it, or N
 * alone with `only`. Throws a RangeError for a lab that does not exist.
 */
export function selectedLabs(n: number, only = false): Lab[] {
  const chosen = findLab(n);
  if (!chosen) {
    throw new RangeError(`there is no lab ${n}; the labs are ${LABS.map((item) => item.number).join(', ')}`);
  }
  return LABS.filter((item) => (only ? item.number === n : item.party === chosen.party && item.number <= n));
}

/** `lab 3` for reports; `no lab` for a scenario without one (a fault in the features). */
export function labName(n: number | undefined): string {
  return n === undefined ? 'no lab' : `lab ${n}`;
}
