import type { MessageRecord } from './presenters';
import type { UserProfileView } from './types';

/**
 * What the chat domain announces after a change is committed. The realtime layer
 * turns these into Socket.IO events; because REST and socket paths both go through
 * the services, both produce exactly the same events.
 */
export interface MessageCreatedEvent {
  conversationId: string;
  participantIds: string[];
  message: MessageRecord;
  sender: UserProfileView;
}

export interface MessagesReadEvent {
  conversationId: string;
  participantIds: string[];
  readerId: string;
  upToSeq: number;
  upToMessageId: string | null;
  readAt: Date;
}

export interface MessageDeletedEvent {
  conversationId: string;
  participantIds: string[];
  messageId: string;
  seq: number;
  deletedAt: Date;
}

export interface MessageDeliveredEvent {
  conversationId: string;
  messageId: string;
  seq: number;
  senderId: string;
  recipientId: string;
  deliveredAt: Date;
}

export interface ParticipantsChangedEvent {
  conversationId: string;
  participantIds: string[];
  added: string[];
  removed: string[];
}

export interface ChatEvents {
  messageCreated(event: MessageCreatedEvent): void;
  messagesRead(event: MessagesReadEvent): void;
  messageDeleted(event: MessageDeletedEvent): void;
  messageDelivered(event: MessageDeliveredEvent): void;
  participantsChanged(event: ParticipantsChangedEvent): void;
}

/**
 * A late-bound fan-out: services are built before Socket.IO exists, and listeners
 * (the realtime layer, tests, metrics) attach later.
 */
export class ChatEventHub implements ChatEvents {
  private readonly listeners: Partial<ChatEvents>[] = [];

  subscribe(listener: Partial<ChatEvents>): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  messageCreated(event: MessageCreatedEvent): void {
    for (const l of this.listeners) l.messageCreated?.(event);
  }

  messagesRead(event: MessagesReadEvent): void {
    for (const l of this.listeners) l.messagesRead?.(event);
  }

  messageDeleted(event: MessageDeletedEvent): void {
    for (const l of this.listeners) l.messageDeleted?.(event);
  }

  messageDelivered(event: MessageDeliveredEvent): void {
    for (const l of this.listeners) l.messageDelivered?.(event);
  }

  participantsChanged(event: ParticipantsChangedEvent): void {
    for (const l of this.listeners) l.participantsChanged?.(event);
  }
}
