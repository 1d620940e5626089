/**
 * Creates demo users, a listing conversation with messages and a group, then prints
 * the users' ids and tokens. Idempotent: users are upserted by email.
 * Database: MONGODB_URI, else the embedded database of a running `npm start`.
 */
import mongoose from 'mongoose';
import { Conversation, User } from '../models';
import { createChatServices } from '../src/chat';
import { loadActor } from '../src/chat/user.service';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connect';
import { readEmbeddedUri } from '../src/db/embedded-uri-file';
import { signUserToken } from '../src/lib/jwt';

const DEMO_USERS = [
  {
    full_name: 'John Smith',
    email: 'john@demo.horsetrust.test',
    profile_picture_url: 'https://cdn.horsetrust.com/users/john.jpg',
  },
  {
    full_name: 'Jane Doe',
    email: 'jane@demo.horsetrust.test',
    profile_picture_url: 'https://cdn.horsetrust.com/users/jane.jpg',
  },
  { full_name: 'Sam Rider', email: 'sam@demo.horsetrust.test', profile_picture_url: null },
];

async function main(): Promise<void> {
  const config = loadConfig();
  const uri = config.mongodbUri ?? readEmbeddedUri();
  if (!uri) {
    console.error(
      'No database: set MONGODB_URI, or start the service first (`npm start`) so its embedded database is up.',
    );
    process.exit(2);
  }
  await connectDatabase(uri);
  const users = [];
  for (const demo of DEMO_USERS) {
    users.push(
      await User.findOneAndUpdate(
        { email: demo.email },
        { $set: demo },
        { upsert: true, returnDocument: 'after' },
      ),
    );
  }
  const [john, jane, sam] = await Promise.all(users.map((u) => loadActor(u._id.toString())));
  if (!john || !jane || !sam) throw new Error('demo users missing after upsert');

  const chat = createChatServices();
  const { conversation: thunder } = await chat.conversations.getOrCreate(john, {
    participantIds: [jane.id],
    listingId: 'horse-thunder',
  });
  const hasMessages = (await Conversation.findById(thunder._id).lean())?.last_seq ?? 0;
  if (!hasMessages) {
    await chat.messages.send(john, thunder._id, { text: 'Is this horse still available?' });
    await chat.messages.send(jane, thunder._id, {
      text: 'Yes, Thunder is still available! Would you like to schedule a visit?',
    });
    await chat.messages.send(john, thunder._id, { text: 'Yes, I would love to schedule a visit!' });
  }
  const { conversation: group } = await chat.conversations.getOrCreate(john, {
    participantIds: [jane.id, sam.id],
    listingId: null,
  });

  const sign = (id: string) =>
    signUserToken(id, config.jwt.secret ?? '', {
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
  console.log(
    JSON.stringify(
      {
        database: uri,
        users: [john, jane, sam].map((u) => ({
          _id: u.id,
          full_name: u.profile.full_name,
          token: sign(u.id),
        })),
        conversations: { listing: thunder._id, group: group._id },
      },
      null,
      2,
    ),
  );
  await mongoose.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
