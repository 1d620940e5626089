import { Types } from 'mongoose';
import { Conversation } from '../../models';
import { allConversationRooms, conversationOfRoom, conversationsOfRooms, userRoom } from './rooms';
import type { ChatSocket } from './socket-types';

/** Which of these conversations the user takes part in now (read from the database). */
export async function conversationsWithMember(ids: string[], userId: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await Conversation.find(
    { _id: { $in: ids }, participants: new Types.ObjectId(userId) },
    { _id: 1 },
  ).lean();
  return new Set(found.map((c) => c._id.toString()));
}

/**
 * Joins the rooms of `rooms` the user may be in: its own room, and the rooms of
 * conversations it takes part in. Membership is read again once the socket is in:
 * a removal committed between the first read and the join made the user's sockets
 * leave before this one was there, so without the second read the socket would
 * stay subscribed for good. Options: `replaces`, rooms left as the permitted ones
 * are joined (another dialect's room of the same conversation); `live`, the socket
 * is connected (an event's handler, not a handshake's recovery), so if it is gone
 * once membership is read it joins nothing (Socket.IO would still add its id to
 * the rooms, and nothing would ever take it out); `stillWanted`, asked once
 * membership is read and allows a join, just before joining: false joins nothing
 * (the client has since said otherwise). Returns the conversations the socket is
 * now in.
 */
export async function joinAllowedRooms(
  socket: ChatSocket,
  rooms: string[],
  userId: string,
  options: { replaces?: string[]; live?: boolean; stillWanted?: () => boolean } = {},
): Promise<Set<string>> {
  const allowed = await conversationsWithMember(conversationsOfRooms(rooms), userId);
  const permitted = (room: string, members: Set<string>) => {
    const id = conversationOfRoom(room);
    return id ? members.has(id) : room === userRoom(userId);
  };
  if (options.live && !socket.connected) return new Set();
  const joined = rooms.filter((room) => permitted(room, allowed));
  // Asked only when there is something to join: a refusal stays a refusal.
  if (joined.length > 0 && options.stillWanted && !options.stillWanted()) return new Set();
  if (joined.length > 0)
    await Promise.all((options.replaces ?? []).map((room) => socket.leave(room)));
  await Promise.all(joined.map((room) => socket.join(room)));
  if (allowed.size === 0) return allowed;
  const confirmed = await conversationsWithMember([...allowed], userId);
  const removedMeanwhile = joined.filter((room) => !permitted(room, confirmed));
  await Promise.all(removedMeanwhile.map((room) => socket.leave(room)));
  return confirmed;
}

/** Takes a socket out of a conversation it no longer takes part in, and tells it so. */
export async function evictFromConversation(socket: ChatSocket, conversationId: string) {
  await Promise.all(allConversationRooms(conversationId).map((room) => socket.leave(room)));
  socket.emit('removed_from_conversation', { conversation_id: conversationId });
}
