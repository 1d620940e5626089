import mongoose from 'mongoose';
import { Message } from '../../models';
import type { AckBody } from '../../src/realtime/contract';
import { MAX_RUNNING_PER_SOCKET, MAX_WAITING_PER_SOCKET } from '../../src/realtime/socket-gate';
import { createConversation, createUsers, insertMessages, type TestUser } from '../factories';
import { useServiceBehindDatabaseProxy } from '../helpers/proxied-service';
import { emitAck, record, settle, waitFor, type ClientSocket } from '../helpers/realtime';

/**
 * One socket flooding events that read the database (joins, receipts, typing,
 * authenticate). Each socket runs at most MAX_RUNNING_PER_SOCKET of them at
 * once, the next MAX_WAITING_PER_SOCKET wait in line, and any more are refused
 * at once (socket-gate.ts). Before, every event started its database work on
 * arrival: 50,000 mark_read emits took the server to 2.3 GB of RSS.
 *
 * The database's replies are held (a TCP proxy between a real service process
 * and the test database), so the running events cannot finish and the line
 * stays exactly as full as the bound allows.
 */
const ADMITTED = MAX_RUNNING_PER_SOCKET + MAX_WAITING_PER_SOCKET;
const ACK_WAIT_MS = 15000;

describe('a socket flooding database-reading events', () => {
  const harness = useServiceBehindDatabaseProxy();
  let reader: TestUser, sender: TestUser, conv: string;
  const connect = (user: TestUser): Promise<ClientSocket> => harness.connect(user.token);
  /** Emits without waiting; the promise settles with the ack (or a timeout error). */
  const emitLater = (socket: ClientSocket, event: 'mark_read', payload: unknown) =>
    emitAck(socket, event, payload, ACK_WAIT_MS);

  beforeEach(async () => {
    [reader, sender] = await createUsers(2);
    conv = await createConversation([reader, sender]);
  });

  it('lets a bounded number wait, refuses the rest at once, then answers every admitted one', async () => {
    const flooder = await connect(reader);
    const other = await connect(sender);
    const extra = 40;

    harness.proxy.stall({ alsoNew: true });
    const acks: AckBody[] = [];
    const pending = Array.from({ length: ADMITTED + extra }, () =>
      emitLater(flooder, 'mark_read', { conversation_id: conv }).then((ack) => {
        acks.push(ack);
        return ack;
      }),
    );
    // Another socket's events are not this socket's problem: it gets a slot of its own.
    const othersJoin = emitAck(other, 'join_conversation', conv, ACK_WAIT_MS);

    // Nothing admitted can finish while the database holds its replies: the answers
    // that come now are the refusals, one per event beyond the bound.
    await waitFor(() => acks.length >= extra, 5000);
    await settle(300);
    expect(acks).toHaveLength(extra);
    for (const ack of acks) {
      expect(ack).toEqual({
        success: false,
        code: 'RATE_LIMITED',
        message: 'Too many events waiting on this socket: slow down',
        retryable: true,
      });
    }

    harness.proxy.restore();
    const answers = await Promise.all(pending);
    const succeeded = answers.filter((ack) => ack.success);
    expect(succeeded).toHaveLength(ADMITTED);
    expect(answers.filter((ack) => !ack.success)).toHaveLength(extra);
    expect(await othersJoin).toEqual({ success: true, data: { conversation_id: conv } });

    // The socket is usable again once its line has drained.
    expect(await emitAck(flooder, 'join_conversation', conv)).toEqual({
      success: true,
      data: { conversation_id: conv },
    });
  }, 30000);

  it('answers authenticate in a line of its own, so a socket can renew its token while its other events wait', async () => {
    const socket = await connect(reader);
    harness.proxy.stall({ alsoNew: true });
    const fillers = Array.from({ length: ADMITTED + 1 }, () =>
      emitLater(socket, 'mark_read', { conversation_id: conv }),
    );
    const renewal = emitAck(socket, 'authenticate', { token: reader.token }, ACK_WAIT_MS);
    await settle(300);
    harness.proxy.restore();

    expect(await renewal).toMatchObject({
      success: true,
      data: { expires_at: expect.any(String) },
    });
    const answers = await Promise.all(fillers);
    expect(answers.filter((ack) => !ack.success)).toHaveLength(1);
  }, 30000);

  it('takes the largest real payload, a receipt of 500 ids, within the frame limit', async () => {
    const socket = await connect(reader);
    const ids = Array.from({ length: 500 }, () => new mongoose.Types.ObjectId().toString());
    expect(
      await emitAck(socket, 'message_received', { conversation_id: conv, message_ids: ids }),
    ).toEqual({ success: true, data: { conversation_id: conv, delivered: [] } });
  }, 30000);

  it('keeps the order the socket sent in: a join then a leave, both waiting in line, leave it out of the room', async () => {
    const waiting = await connect(reader);
    const talker = await connect(sender);
    const received = record(waiting, 'new_message');

    harness.proxy.stall({ alsoNew: true });
    // Enough to fill the running slots and put the join and the leave in line.
    const fillers = Array.from({ length: MAX_RUNNING_PER_SOCKET + 4 }, () =>
      emitLater(waiting, 'mark_read', { conversation_id: conv }),
    );
    const join = emitAck(waiting, 'join_conversation', conv, ACK_WAIT_MS);
    const leave = emitAck(waiting, 'leave_conversation', conv, ACK_WAIT_MS);
    await settle(300);
    harness.proxy.restore();

    expect((await Promise.all(fillers)).every((ack) => ack.success)).toBe(true);
    expect(await join).toMatchObject({ success: true });
    expect(await leave).toMatchObject({ success: true });

    const sent = await emitAck(talker, 'send_message', { conversation_id: conv, text: 'after' });
    expect(sent).toMatchObject({ success: true });
    await settle(300);
    expect(received).toEqual([]);
  }, 30000);

  it('drops the events still in line when their socket disconnects', async () => {
    const [messageId] = await insertMessages(conv, [sender], 1);
    const leaving = await connect(reader);
    const senderSocket = await connect(sender);
    const deliveries = record(senderSocket, 'message_delivered');

    harness.proxy.stall({ alsoNew: true });
    // The running slots are taken by receipts for messages that do not exist...
    for (let i = 0; i < MAX_RUNNING_PER_SOCKET; i++) {
      leaving.emit('message_received', {
        conversation_id: conv,
        message_ids: [new mongoose.Types.ObjectId().toString()],
      });
    }
    // ...so the real receipt waits in line when the socket goes away.
    leaving.emit('message_received', { conversation_id: conv, message_ids: [messageId] });
    await settle(300);
    leaving.disconnect();
    await settle(300);
    harness.proxy.restore();

    await settle(1000);
    const stored = await Message.findById(messageId).lean();
    expect(stored?.status).toBe('sent');
    expect(deliveries).toEqual([]);
  }, 30000);
});
