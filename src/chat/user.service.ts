import type { Types } from 'mongoose';
import { User, USER_PROFILE_FIELDS, type UserProfile } from '../../models';
import { toProfileView } from './presenters';
import type { Actor, UserProfileView } from './types';

/** Loads the authenticated user; null when the token names a user that does not exist. */
export async function loadActor(userId: string): Promise<Actor | null> {
  const user = await User.findById(userId, USER_PROFILE_FIELDS).lean<UserProfile>();
  if (!user) return null;
  return { id: user._id.toString(), profile: toProfileView(user) };
}

/** Public profiles for a set of user ids, in one query. */
export async function profilesFor(
  ids: Array<Types.ObjectId | string>,
): Promise<Map<string, UserProfileView>> {
  const unique = [...new Set(ids.map((id) => id.toString()))];
  const users = unique.length
    ? await User.find({ _id: { $in: unique } }, USER_PROFILE_FIELDS).lean<UserProfile[]>()
    : [];
  return new Map(users.map((u) => [u._id.toString(), toProfileView(u)]));
}

/** How many of the given ids name existing users. */
export async function countExistingUsers(ids: string[]): Promise<number> {
  return User.countDocuments({ _id: { $in: ids } });
}
