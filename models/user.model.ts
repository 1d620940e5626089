import { Schema, model, type InferSchemaType, type HydratedDocument, type Types } from 'mongoose';

/**
 * Users belong to the marketplace (collection `users`); the chat service only reads them.
 */
const userSchema = new Schema(
  {
    full_name: { type: String, required: true, trim: true },
    profile_picture_url: { type: String, default: null },
    email: { type: String, default: null, trim: true, lowercase: true },
  },
  { collection: 'users', timestamps: true },
);

export type UserFields = InferSchemaType<typeof userSchema>;
export type UserDocument = HydratedDocument<UserFields>;
export const User = model('User', userSchema);

/** The public face of a user inside chat payloads. */
export interface UserProfile {
  _id: Types.ObjectId;
  full_name: string;
  profile_picture_url: string | null;
}

export const USER_PROFILE_FIELDS = '_id full_name profile_picture_url';
