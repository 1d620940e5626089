/** The authenticated caller, as every service receives it (REST and sockets alike). */
export interface Actor {
  id: string;
  profile: UserProfileView;
}

export interface UserProfileView {
  _id: string;
  full_name: string;
  profile_picture_url: string | null;
}

/** A message as the Horse Trust document shows it (plus seq/status/client id). */
export interface MessageView {
  _id: string;
  conversation_id: string;
  sender_id: string | UserProfileView;
  text: string;
  is_read: boolean;
  read_at: string | null;
  sent_at: string;
  seq: number;
  status: string;
  client_message_id?: string;
}

/** A message in the Karmyq dialect (sender id as a string, `content`, `created_at`). */
export interface KarmyqMessageView {
  id: string;
  conversation_id: string;
  sender_id: string;
  sender_name: string;
  content: string;
  status: string;
  created_at: string;
  seq: number;
  client_message_id?: string;
}

export interface LastMessageView {
  message_id: string;
  text: string;
  sender_id: string;
  sent_at: string;
  is_read: boolean;
  seq: number;
}

export interface ConversationView {
  _id: string;
  participants: UserProfileView[];
  listing_id: string | null;
  last_message: LastMessageView | null;
  last_message_at: string | null;
  unread_count: number;
  created_at: string;
  updated_at: string;
}

/** A conversation in the Karmyq dialect (`id`, `request_match_id`, participants as `{id, name}`). */
export interface KarmyqConversationView {
  id: string;
  request_match_id: string | null;
  participants: Array<{ id: string; name: string; profile_picture_url: string | null }>;
  last_message: { id: string; content: string; sender_id: string; created_at: string } | null;
  last_message_at: string | null;
  unread_count: number;
  created_at: string;
}
