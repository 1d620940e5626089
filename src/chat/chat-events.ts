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

/** Where failures that must not fail the request go (the server passes its logger). */
export type ErrorReporter = (err: unknown, context: string) => void;

/** What services announce to, and report background failures to. */
export interface ChatEventSink extends ChatEvents {
  reportError: ErrorReporter;
}

const reportToStderr: ErrorReporter = (err, context) => console.error(context, err);

/**
 * A late-bound fan-out: services are built before Socket.IO exists, and listeners
 * (the realtime layer, tests, metrics) attach later. Events announce changes that
 * are already committed, so a listener that throws is reported and never turns
 * the request that made the change into a failure (a client would retry it and,
 * without a client_message_id, store its message twice); the other listeners
 * still run.
 */
export class ChatEventHub implements ChatEventSink {
  private readonly listeners: Partial<ChatEvents>[] = [];

  constructor(private report: ErrorReporter = reportToStderr) {}

  /** Replaces where errors go (listeners' and the services' background writes). */
  setErrorReporter(report: ErrorReporter): void {
    this.report = report;
  }

  /**
   * Reports a failure that must not fail the request (a background write, a
   * listener). A property, so it can be passed on without its object.
   */
  readonly reportError: ErrorReporter = (err, context) => {
    try {
      this.report(err, context);
    } catch {
      // A broken reporter must not take the request down with it either.
    }
  };

  subscribe(listener: Partial<ChatEvents>): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  messageCreated(event: MessageCreatedEvent): void {
    this.emit('messageCreated', event);
  }

  messagesRead(event: MessagesReadEvent): void {
    this.emit('messagesRead', event);
  }

  messageDeleted(event: MessageDeletedEvent): void {
    this.emit('messageDeleted', event);
  }

  messageDelivered(event: MessageDeliveredEvent): void {
    this.emit('messageDelivered', event);
  }

  participantsChanged(event: ParticipantsChangedEvent): void {
    this.emit('participantsChanged', event);
  }

  private emit<K extends keyof ChatEvents>(name: K, event: Parameters<ChatEvents[K]>[0]): void {
    for (const listener of this.listeners) {
      const handle = listener[name] as ((e: typeof event) => void) | undefined;
      if (!handle) continue;
      try {
        handle.call(listener, event);
      } catch (err) {
        this.reportError(err, `chat event listener failed: ${name}`);
      }
    }
  }
}
