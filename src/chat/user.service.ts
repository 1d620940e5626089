import { Types } from 'mongoose';
import { User, type UserProfile } from '../../models';
import { isObjectIdString } from './ids';
import { toProfileView } from './presenters';
import type { Actor, UserProfileView } from './types';

// USER_PROFILE_FIELDS as a driver projection. These reads run on every request and
// every handshake, so they use the driver directly (see message-writes.ts for why).
const PROFILE = { projection: { _id: 1, full_name: 1, profile_picture_url: 1 } };

/** Loads the authenticated user; null when the token names a user that does not exist. */
export async function loadActor(userId: string): Promise<Actor | null> {
  if (!isObjectIdString(userId)) return null;
  const user = await User.collection.findOne<UserProfile>(
    { _id: new Types.ObjectId(userId) },
    PROFILE,
  );
  if (!user) return null;
  return { id: user._id.toString(), profile: toProfileView(user) };
}

/** Public profiles for a set of user ids, in one query. */
export async function profilesFor(
  ids: Array<Types.ObjectId | string>,
): Promise<Map<string, UserProfileView>> {
  const unique = [...new Set(ids.map((id) => id.toString()))];
  const users = unique.length
    ? await User.collection
        .find<UserProfile>({ _id: { $in: unique.map((id) => new Types.ObjectId(id)) } }, PROFILE)
        .toArray()
    : [];
  return new Map(users.map((u) => [u._id.toString(), toProfileView(u)]));
}

/** How many of the given ids name existing users. */
export async function countExistingUsers(ids: string[]): Promise<number> {
  return User.countDocuments({ _id: { $in: ids } });
}
