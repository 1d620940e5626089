import { Types } from 'mongoose';
import { AppError } from '../lib/errors';

/** Opaque keyset cursor for the conversation list: the last row's (activity time, id). */
export function encodeCursor(at: Date, id: Types.ObjectId): string {
  return Buffer.from(`${at.getTime()}:${id.toString()}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: Types.ObjectId } {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,15}):([0-9a-f]{24})$/.exec(decoded);
  if (!match) {
    throw new AppError('VALIDATION_FAILED', 'Invalid cursor', [
      { field: 'cursor', message: 'is not a cursor this API issued' },
    ]);
  }
  return { at: new Date(Number(match[1])), id: new Types.ObjectId(match[2]) };
}
