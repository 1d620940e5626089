/**
 * Runs the MongoDB wire-compatible emulator in the foreground, for pointing
 * MONGODB_URI at it: npm run db:emulator   (then MONGODB_URI=mongodb://127.0.0.1:<port>/chat)
 */
import { startEmulator } from '../src/db/emulator';

startEmulator()
  .then((db) => {
    console.log(`MongoDB emulator ready: ${db.uri}  (Ctrl-C to stop; data is in memory)`);
    const stop = () => void db.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
