import { Types } from 'mongoose';
import { AppError } from '../lib/errors';

const OBJECT_ID = /^[0-9a-fA-F]{24}$/;

/** True for a 24-hex-digit ObjectId string (Types.ObjectId.isValid also accepts 12-char strings). */
export function isObjectIdString(value: unknown): value is string {
  return typeof value === 'string' && OBJECT_ID.test(value);
}

/** Parses an id from client input, or throws 400 naming the field. */
export function parseObjectId(value: unknown, field: string): Types.ObjectId {
  if (!isObjectIdString(value)) {
    // Worded as REST's validators word it (common.validators.ts): one mistake, one answer.
    throw new AppError('VALIDATION_FAILED', `${field} must be a valid id`, [
      { field, message: 'must be a valid id' },
    ]);
  }
  return new Types.ObjectId(value);
}

export function sameId(
  a: { toString(): string } | null | undefined,
  b: { toString(): string } | null | undefined,
): boolean {
  return a != null && b != null && a.toString() === b.toString();
}
