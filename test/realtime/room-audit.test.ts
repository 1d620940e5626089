import { Conversation } from '../../models';
import { createLogger } from '../../src/lib/logger';
import { auditRoomsEvery } from '../../src/realtime/room-audit';
import { conversationRoom } from '../../src/realtime/rooms';
import { createConversation, createUsers } from '../factories';
import { record, settle } from '../helpers/realtime';
import { joinHorseTrust, useRealtimeSuite } from '../helpers/realtime-suite';

// The audit runs in cluster mode only; here it is driven directly on one node,
// whose in-memory adapter holds the same rooms.
const suite = useRealtimeSuite();

describe('room audit schedule', () => {
  it('has finished its run when stop resolves, so a shutdown never closes the database under it', async () => {
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sb = await suite.connect(b.token);
    await joinHorseTrust(sb, conv);
    const removals = record(sb, 'removed_from_conversation');
    await Conversation.updateOne({ _id: conv }, { $pull: { participants: b.id } });

    const io = suite.server.realtime.io;
    const room = conversationRoom(conv);
    const inRoom = () => io.of('/').adapter.rooms.get(room)?.has(sb.id!) ?? false;
    const logger = createLogger('silent');
    // Stops at every point of a run (before it starts, during its reads, after it):
    // whatever state stop leaves must be final.
    const delays = [...Array.from({ length: 16 }, (_, i) => i), 50, 100];
    for (const delayMs of delays) {
      await io.of('/').sockets.get(sb.id!)!.join(room);
      const stop = auditRoomsEvery(io, 1, logger);
      await settle(delayMs);
      await stop();
      const atStop = inRoom();
      await settle(25);
      expect({ delayMs, inRoom: inRoom() }).toEqual({ delayMs, inRoom: atStop });
    }
    // The audits did run (and evict) within the loop.
    expect(removals.length).toBeGreaterThan(0);
    expect(removals[0]).toEqual({ conversation_id: conv });
  });
});
