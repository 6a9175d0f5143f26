/**
 * What members of a clustered room are told that a single server never has to say. These are
 * `system` messages: v1 clients show them like any other notice.
 */
export const clusterNotices = {
  messagesLost: (count: number) =>
    `This server fell behind the room and could not recover ${count} room event(s); messages were lost here`,
  logReset:
    "The room's message log was reset (its Redis lost its data); messages sent just before may have been lost",
  notSent: 'Message not sent: the room is unavailable right now; send it again later',
  removed: 'You were removed from the room: this server lost its place in the cluster',
} as const;
