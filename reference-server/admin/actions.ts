/**
 * The reference server's side of the admin API: what each action reads from or does to the room
 * and its sessions. The server hands over a view of itself; nothing here knows about HTTP.
 */
import type { Room } from '../room.ts';
import type { Session } from '../session.ts';
import type { ServerStats } from '../stats.ts';
import type { AdminActions, AdminUser } from './routes.ts';

export interface AdminView {
  room: Room;
  /** Every open connection, members or not. */
  sessions: ReadonlySet<Session>;
  stats: ServerStats;
  /** When the server started listening, ms since the epoch. */
  startedAt: number;
  /** Where it listens and what it runs with: listeners, limits, flow control. */
  settings(): Record<string, unknown>;
}

export function serverAdminActions(view: AdminView): AdminActions {
  const { room, stats } = view;
  /** Members by name: a session is in the room under its name once its handshake is accepted. */
  const members = (): Map<string, Session> => {
    const byName = new Map<string, Session>();
    for (const session of view.sessions) {
      if (session.state === 'member' && room.member(session.username) === session) {
        byName.set(session.username, session);
      }
    }
    return byName;
  };
  return {
    status: () => ({
      uptimeSeconds: Math.round((Date.now() - view.startedAt) / 100) / 10,
      startedAt: new Date(view.startedAt).toISOString(),
      ...view.settings(),
      counts: {
        connections: stats.connectionsOpen,
        users: room.size,
        connectionsAccepted: stats.connectionsAccepted,
        messagesRelayed: stats.messagesRelayed,
        deliveries: stats.deliveries,
        keyRotations: stats.keyRotations,
        outputQueuedBytes: stats.outputQueuedBytes,
        slowReaderDisconnects: stats.slowReaderDisconnects.cap + stats.slowReaderDisconnects.timeout,
      },
    }),
    users: () => {
      const now = Date.now();
      const byName = members();
      return room.usernames.flatMap((name): AdminUser[] => {
        const session = byName.get(name);
        if (session === undefined) return [];
        return [
          {
            name,
            transport: session.transport,
            peer: session.peer,
            connectedMs: now - session.openedAt,
            pendingOutputBytes: session.pendingOutputBytes,
          },
        ];
      });
    },
    announce: (text) => room.announce(text),
    kick: (name, notice) => members().get(name)?.kick(notice) ?? false,
    rotateKey: () => room.rotateKey(),
  };
}
