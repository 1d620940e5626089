/** Room names. A user's every device sits in its personal room. */
export type Dialect = 'horse_trust' | 'karmyq';

export const userRoom = (userId: string) => `user:${userId}`;

/**
 * One room per conversation and dialect, so each client receives payloads in the
 * shape it was written for (Horse Trust populates sender_id; Karmyq sends an id).
 */
export const conversationRoom = (conversationId: string, dialect: Dialect = 'horse_trust') =>
  dialect === 'karmyq' ? `conversation:${conversationId}:karmyq` : `conversation:${conversationId}`;

export const otherDialect = (dialect: Dialect): Dialect =>
  dialect === 'karmyq' ? 'horse_trust' : 'karmyq';

export const allConversationRooms = (conversationId: string) => [
  conversationRoom(conversationId, 'horse_trust'),
  conversationRoom(conversationId, 'karmyq'),
];

const CONVERSATION_ROOM = /^conversation:([0-9a-f]{24})(?::karmyq)?$/;

/** The conversation a room belongs to, if it is a conversation room (either dialect). */
export function conversationOfRoom(room: string): string | undefined {
  return CONVERSATION_ROOM.exec(room)?.[1];
}

/** The distinct conversations of these rooms. */
export function conversationsOfRooms(rooms: Iterable<string>): string[] {
  const ids = new Set<string>();
  for (const room of rooms) {
    const id = conversationOfRoom(room);
    if (id) ids.add(id);
  }
  return [...ids];
}
