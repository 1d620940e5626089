import type { Types } from 'mongoose';
import type { UserProfile } from '../../models';
import type {
  ConversationView,
  KarmyqConversationView,
  KarmyqMessageView,
  LastMessageView,
  MessageView,
  UserProfileView,
} from './types';

/** The stored fields of a message that any view needs (lean or hydrated). */
export interface MessageRecord {
  _id: Types.ObjectId;
  conversation_id: Types.ObjectId;
  sender_id: Types.ObjectId;
  text: string;
  seq: number;
  is_read: boolean;
  read_at: Date | null;
  status: string;
  sent_at: Date;
  client_message_id?: string | null;
  deleted_at?: Date | null;
}

const iso = (d: Date | null | undefined): string | null =>
  d ? (d instanceof Date ? d : new Date(d)).toISOString() : null;

export function toProfileView(user: UserProfile | UserProfileView): UserProfileView {
  return {
    _id: user._id.toString(),
    full_name: user.full_name,
    profile_picture_url: user.profile_picture_url ?? null,
  };
}

/** A profile for a user id whose record has gone (kept so payload shapes never change). */
export function missingProfile(id: string): UserProfileView {
  return { _id: id, full_name: 'Deleted user', profile_picture_url: null };
}

/**
 * Horse Trust message shape. With `sender` the sender is populated (history, ack,
 * new_message); without, it is the id string (the REST send response).
 */
export function toMessageView(message: MessageRecord, sender?: UserProfileView): MessageView {
  const view: MessageView = {
    _id: message._id.toString(),
    conversation_id: message.conversation_id.toString(),
    sender_id: sender ?? message.sender_id.toString(),
    text: message.text,
    is_read: message.is_read,
    read_at: iso(message.read_at),
    sent_at: iso(message.sent_at)!,
    seq: message.seq,
    status: message.status,
  };
  if (message.client_message_id) view.client_message_id = message.client_message_id;
  return view;
}

export function toKarmyqMessageView(
  message: MessageRecord,
  sender: UserProfileView,
): KarmyqMessageView {
  const view: KarmyqMessageView = {
    id: message._id.toString(),
    conversation_id: message.conversation_id.toString(),
    sender_id: message.sender_id.toString(),
    sender_name: sender.full_name,
    content: message.text,
    status: message.status,
    created_at: iso(message.sent_at)!,
    seq: message.seq,
  };
  if (message.client_message_id) view.client_message_id = message.client_message_id;
  return view;
}

export interface LastMessageRecord {
  message_id: Types.ObjectId;
  seq: number;
  text: string;
  sender_id: Types.ObjectId;
  sent_at: Date;
  is_read?: boolean | null;
}

export function toLastMessageRecord(message: MessageRecord): LastMessageRecord {
  // seq first: last_message is recorded with $max (see models/conversation.model.ts).
  return {
    seq: message.seq,
    message_id: message._id,
    text: message.text,
    sender_id: message.sender_id,
    sent_at: message.sent_at,
    is_read: message.is_read,
  };
}

function toLastMessageView(last: LastMessageRecord | null | undefined): LastMessageView | null {
  if (!last) return null;
  return {
    message_id: last.message_id.toString(),
    text: last.text,
    sender_id: last.sender_id.toString(),
    sent_at: iso(last.sent_at)!,
    is_read: Boolean(last.is_read),
    seq: last.seq,
  };
}

export interface ConversationRecord {
  _id: Types.ObjectId;
  participants: Types.ObjectId[];
  listing_id?: string | null;
  last_message?: LastMessageRecord | null;
  last_message_at?: Date | null;
  created_at: Date;
  updated_at: Date;
}

export function toConversationView(
  conversation: ConversationRecord,
  profiles: Map<string, UserProfileView>,
  unreadCount: number,
): ConversationView {
  return {
    _id: conversation._id.toString(),
    participants: conversation.participants.map(
      (id) => profiles.get(id.toString()) ?? missingProfile(id.toString()),
    ),
    listing_id: conversation.listing_id ?? null,
    last_message: toLastMessageView(conversation.last_message),
    last_message_at: iso(conversation.last_message_at),
    unread_count: unreadCount,
    created_at: iso(conversation.created_at)!,
    updated_at: iso(conversation.updated_at)!,
  };
}

/** The Karmyq shape of a conversation, from the Horse Trust one (same facts, other names). */
export function toKarmyqConversationView(view: ConversationView): KarmyqConversationView {
  const last = view.last_message;
  return {
    id: view._id,
    request_match_id: view.listing_id,
    participants: view.participants.map((p) => ({
      id: p._id,
      name: p.full_name,
      profile_picture_url: p.profile_picture_url,
    })),
    last_message: last
      ? {
          id: last.message_id,
          content: last.text,
          sender_id: last.sender_id,
          created_at: last.sent_at,
        }
      : null,
    last_message_at: view.last_message_at,
    unread_count: view.unread_count,
    created_at: view.created_at,
  };
}
