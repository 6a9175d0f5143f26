/**
 * Judges a trace against the model of the room: each connection walked through the per-connection
 * state machine (model.ts), then what the connections saw compared with one another and with what
 * was sent. Every check is sound under any timing: a message counts as "must arrive" only when the
 * trace proves the server had it while the receiver was a member (the receiver's key_exchange
 * arrived before the message was sent, and the sender was admitted and stayed or saw its echo).
 *
 * One property goes beyond the letter of v1: `room order`, every member seeing the room's chat
 * messages in one order. docs/protocol.md (7.3) allows two senders' messages to interleave
 * differently at different members; the fuzzer holds servers to the stronger promise that the echo
 * exists for ("shows it in the same order as everyone else sees it"), and names it apart.
 */
import { notices } from '../../protocol/index.ts';
import { followConnection, type Member, type Violation } from './model.ts';
import { type SentChat, stayedOpen, type Trace } from './trace.ts';

export type { Violation } from './model.ts';

export const ROOM_ORDER = 'room order';

interface Sent {
  chat: SentChat;
  from: Member;
}

export function checkTrace(trace: Trace): Violation[] {
  const violations: Violation[] = [];
  const members = trace.connections.map((connection) => followConnection(connection, violations));
  const sent = new Map<string, Sent>();
  for (const member of members)
    for (const chat of member.trace.chats) sent.set(chat.payload, { chat, from: member });
  const ours = (payload: string) =>
    Buffer.from(payload, 'base64').toString('latin1').startsWith(`fuzz${trace.tag} `);

  checkNamesOnceEach(members, violations);
  for (const receiver of members) checkReceived(receiver, sent, ours, violations);
  checkDelivery(members, trace.quiet, violations);
  checkRoomOrder(members, sent, violations);
  if (trace.quiet) checkFinalUserLists(members, trace.tag, violations);
  return violations;
}

/**
 * Two members with one name at once (ECP-AUTH-03). Certain only when the second asked for the name
 * after the first's admission had arrived, and was admitted before the first began to leave: a
 * client sees its admission late (it may be reading slowly), never early.
 */
function checkNamesOnceEach(members: Member[], violations: Violation[]): void {
  const admitted = members.filter((member) => member.admittedAt !== undefined);
  for (const first of admitted) {
    // Only a close this side began is known to precede the server's view of it.
    if (first.trace.closedAt !== undefined && first.trace.closedByClientAt === undefined) continue;
    const end = first.trace.closedByClientAt ?? Number.POSITIVE_INFINITY;
    for (const second of admitted) {
      if (second === first || second.name !== first.name) continue;
      const asked = second.trace.handshakes.filter((item) => item.at < second.admittedAt!).at(-1)?.at;
      if (asked !== undefined && asked > first.admittedAt! && second.admittedAt! < end) {
        violations.push({
          requirement: 'ECP-AUTH-03',
          connection: second.trace.id,
          text: `connections ${first.trace.id} and ${second.trace.id} were both admitted as ${first.name}`,
        });
      }
    }
  }
}

/** What one member received: from whom, unchanged, once each, each sender in order. */
function checkReceived(
  receiver: Member,
  sent: Map<string, Sent>,
  ours: (payload: string) => boolean,
  violations: Violation[],
): void {
  const seen = new Set<string>();
  const lastSeqFrom = new Map<Member, number>();
  const flag = (requirement: string, text: string) =>
    violations.push({
      requirement,
      connection: receiver.trace.id,
      text: `connection ${receiver.trace.id}: ${text}`,
    });
  for (const chat of receiver.chats) {
    const origin = sent.get(chat.payload);
    if (!origin) {
      if (ours(chat.payload)) flag('ECP-CHAT-04', 'received a payload that differs from every one sent');
      continue;
    }
    const from = origin.from;
    if (from.name === undefined) {
      if (certainlyOutside(from, origin.chat))
        flag('ECP-ERR-03', `received a chat sent by connection ${from.trace.id}, which was not admitted`);
      continue;
    }
    if (from.admittedAt !== undefined && origin.chat.at > from.admittedAt && chat.sender !== from.name) {
      flag('ECP-CHAT-03', `a chat of ${from.name} arrived with sender ${JSON.stringify(chat.sender)}`);
    }
    if (seen.has(chat.payload)) {
      flag('ECP-CHAT-05', `received chat #${origin.chat.seq} of ${from.name} twice`);
      continue;
    }
    seen.add(chat.payload);
    const last = lastSeqFrom.get(from) ?? 0;
    if (origin.chat.seq < last)
      flag('ECP-CHAT-05', `received chat #${origin.chat.seq} of ${from.name} after its chat #${last}`);
    lastSeqFrom.set(from, Math.max(last, origin.chat.seq));
  }
}

/**
 * Whether the server had certainly not admitted `from` when it read `chat`: every handshake sent
 * before the chat was answered `Username already taken` (the server reads a connection in order).
 * A connection that closed before it could see an answer may have been admitted unseen.
 */
function certainlyOutside(from: Member, chat: SentChat): boolean {
  const before = from.trace.handshakes.filter((handshake) => handshake.at < chat.at).length;
  const taken = from.trace.received.filter(
    (line) => line.message?.type === 'system' && line.message.message === notices.usernameTaken,
  ).length;
  return taken >= before;
}

/**
 * Nothing lost for members who stay (ECP-CHAT-01): a chat the server certainly had (its sender
 * was admitted when sending it, and either saw the echo or stayed) reaches every member that was
 * admitted before it was sent and stayed to the end, the sender included.
 */
function checkDelivery(members: Member[], quiet: boolean, violations: Violation[]): void {
  if (!quiet) return;
  const stayers = members.filter((member) => member.admittedAt !== undefined && stayedOpen(member.trace));
  for (const sender of members) {
    if (sender.admittedAt === undefined) continue;
    const echoed = new Set(sender.chats.map((chat) => chat.payload));
    for (const chat of sender.trace.chats) {
      if (chat.at <= sender.admittedAt) continue;
      if (!echoed.has(chat.payload) && !stayedOpen(sender.trace)) continue;
      for (const receiver of stayers) {
        if (receiver.admittedAt! >= chat.at) continue;
        if (receiver.chats.some((item) => item.payload === chat.payload)) continue;
        const whose = receiver === sender ? 'its own chat (no echo)' : `chat #${chat.seq} of ${sender.name}`;
        violations.push({
          requirement: 'ECP-CHAT-01',
          connection: receiver.trace.id,
          text: `connection ${receiver.trace.id} (${receiver.name}) never received ${whose}`,
        });
      }
    }
  }
}

/** Every two members saw the chats they both received in the same order. */
function checkRoomOrder(members: Member[], sent: Map<string, Sent>, violations: Violation[]): void {
  const positions = members.map((member) => {
    const map = new Map<string, number>();
    member.chats.forEach((chat, index) => {
      if (sent.has(chat.payload) && !map.has(chat.payload)) map.set(chat.payload, index);
    });
    return map;
  });
  for (let a = 0; a < members.length; a++) {
    for (let b = a + 1; b < members.length; b++) {
      let previous: string | undefined;
      for (const chat of members[b]!.chats) {
        const position = positions[a]!.get(chat.payload);
        if (position === undefined) continue;
        if (previous !== undefined && position < positions[a]!.get(previous)!) {
          const name = (payload: string) => {
            const origin = sent.get(payload)!;
            return `chat #${origin.chat.seq} of ${origin.from.name}`;
          };
          violations.push({
            requirement: ROOM_ORDER,
            connection: members[b]!.trace.id,
            text: `connection ${members[a]!.trace.id} saw ${name(chat.payload)} before ${name(previous)}, connection ${members[b]!.trace.id} after it`,
          });
          return;
        }
        previous = chat.payload;
      }
    }
  }
}

/** Once the room is quiet, each member's latest user list is the room (ECP-UL-01). */
function checkFinalUserLists(members: Member[], tag: string, violations: Violation[]): void {
  const room = members
    .filter((member) => member.admittedAt !== undefined && stayedOpen(member.trace))
    .map((member) => member.name!);
  const expected = [...room].sort().join(', ');
  for (const member of members) {
    if (member.admittedAt === undefined || !stayedOpen(member.trace)) continue;
    const latest = (member.lastUserList ?? [])
      .filter((name) => name.endsWith(tag))
      .sort()
      .join(', ');
    if (latest !== expected) {
      violations.push({
        requirement: 'ECP-UL-01',
        connection: member.trace.id,
        text: `connection ${member.trace.id} (${member.name}): once the room was quiet its latest user_list was [${latest}], the room is [${expected}]`,
      });
    }
  }
}
