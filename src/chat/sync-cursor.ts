import { Types } from 'mongoose';
import { AppError } from '../lib/errors';

/**
 * The /sync cursor: a position in the (changed_at, _id) order of message changes.
 * `id` null means "everything at `at` is included" (a horizon, not a page end).
 */
export interface SyncPosition {
  at: Date;
  id: Types.ObjectId | null;
}

const PREFIX = 's1';

export function encodeSyncCursor(position: SyncPosition): string {
  return Buffer.from(
    `${PREFIX}:${position.at.getTime()}:${position.id?.toString() ?? ''}`,
  ).toString('base64url');
}

export function decodeSyncCursor(cursor: string): SyncPosition {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^s1:(\d{1,15}):([0-9a-f]{24})?$/.exec(decoded);
  if (!match) {
    throw new AppError('VALIDATION_FAILED', 'Invalid sync cursor', [
      { field: 'since', message: 'is not a cursor this API issued' },
    ]);
  }
  return { at: new Date(Number(match[1])), id: match[2] ? new Types.ObjectId(match[2]) : null };
}

/** Mongo filter for changes strictly after `position`. */
export function afterPosition(position: SyncPosition): Record<string, unknown> {
  if (!position.id) return { changed_at: { $gt: position.at } };
  return {
    $or: [
      { changed_at: { $gt: position.at } },
      { changed_at: position.at, _id: { $gt: position.id } },
    ],
  };
}
