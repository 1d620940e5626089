export * from './user.model';
export * from './conversation.model';
export * from './message.model';
export * from './block.model';
