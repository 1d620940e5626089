import { Types } from 'mongoose';
import { Conversation, Message, User } from '../../models';
import { participantKey } from '../../src/chat/conversation.service';
import type { Actor } from '../../src/chat/types';
import { tokenFor } from '../helpers/tokens';

let counter = 0;

export interface TestUser {
  id: string;
  token: string;
  actor: Actor;
  full_name: string;
}

/** Inserts a marketplace user and returns it with a real token. */
export async function createUser(
  overrides: { full_name?: string; profile_picture_url?: string | null } = {},
): Promise<TestUser> {
  counter += 1;
  const user = await User.create({
    full_name: overrides.full_name ?? `User ${counter}`,
    // An explicit null means "no picture"; only an absent override gets the default.
    profile_picture_url:
      overrides.profile_picture_url !== undefined
        ? overrides.profile_picture_url
        : `https://cdn.example.com/u${counter}.jpg`,
    email: `user${counter}@example.com`,
  });
  const id = user._id.toString();
  return {
    id,
    token: tokenFor(id),
    full_name: user.full_name,
    actor: {
      id,
      profile: {
        _id: id,
        full_name: user.full_name,
        profile_picture_url: user.profile_picture_url ?? null,
      },
    },
  };
}

export async function createUsers(n: number): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await createUser());
  return users;
}

/** Inserts a conversation directly (members in sync with participants). */
export async function createConversation(
  participants: TestUser[],
  overrides: { listing_id?: string | null; last_activity_at?: Date } = {},
): Promise<string> {
  const ids = participants.map((p) => p.id);
  const conversation = await Conversation.create({
    participants: ids,
    participant_key: participantKey(ids, overrides.listing_id ?? null),
    listing_id: overrides.listing_id ?? null,
    created_by: ids[0],
    members: ids.map((id) => ({ user_id: id, read_seq: 0 })),
    last_activity_at: overrides.last_activity_at ?? new Date(),
  });
  return conversation._id.toString();
}

/**
 * Inserts `count` messages directly, with consecutive seqs, keeping the
 * conversation's last_seq/last_message consistent. For history/pagination setups.
 */
export async function insertMessages(
  conversationId: string,
  senders: TestUser[],
  count: number,
  options: { textPrefix?: string } = {},
): Promise<string[]> {
  const conversation = await Conversation.findById(conversationId).lean();
  if (!conversation) throw new Error('no such conversation');
  const start = conversation.last_seq;
  const base = Date.now() - count * 1000;
  const docs = Array.from({ length: count }, (_, i) => ({
    _id: new Types.ObjectId(),
    conversation_id: conversation._id,
    sender_id: senders[i % senders.length].id,
    text: `${options.textPrefix ?? 'message'} ${start + i + 1}`,
    seq: start + i + 1,
    sent_at: new Date(base + i * 1000),
  }));
  await Message.insertMany(docs);
  const last = docs[docs.length - 1];
  if (last) {
    await Conversation.updateOne(
      { _id: conversation._id },
      {
        $set: {
          last_seq: last.seq,
          last_message: {
            message_id: last._id,
            seq: last.seq,
            text: last.text,
            sender_id: last.sender_id,
            sent_at: last.sent_at,
            is_read: false,
          },
          last_message_at: last.sent_at,
          last_activity_at: last.sent_at,
        },
      },
    );
  }
  return docs.map((d) => d._id.toString());
}
