import { Message } from '../../models';
import type { MessageView } from '../../src/chat/types';
import type { AckBody } from '../../src/realtime/contract';
import { emitAck, record, settle, waitFor } from '../helpers/realtime';
import {
  QUIET_MS,
  isHorseTrust,
  joinHorseTrust,
  recordAll,
  trio,
  useRealtimeSuite,
} from '../helpers/realtime-suite';

const BURST = 50;

describe('ordering of a burst of sends', () => {
  const suite = useRealtimeSuite();

  it(`delivers ${BURST} un-awaited sends to the other participant in send order, seq 1..${BURST}`, async () => {
    const { conv, sa, sb, so } = await trio(suite);
    await joinHorseTrust(sa, conv);
    await joinHorseTrust(sb, conv);
    const [toA, toB] = [record(sa, 'new_message'), record(sb, 'new_message')];
    const notifications = record(sb, 'message_notification');
    const outsiderSaw = recordAll(so);
    const texts = Array.from({ length: BURST }, (_, i) => `burst ${i + 1}`);

    // Emit all of them before any ack comes back.
    const acks: Array<Promise<AckBody>> = texts.map((text) =>
      emitAck(sa, 'send_message', { conversation_id: conv, text }),
    );
    const settled = await Promise.all(acks);

    await waitFor(
      () => toB.length >= BURST && toA.length >= BURST && notifications.length >= BURST,
    );
    const received = toB.filter(isHorseTrust);
    expect(received.map((m) => m.text)).toEqual(texts);
    expect(received.map((m) => m.seq)).toEqual(texts.map((_, i) => i + 1));
    expect(toA.filter(isHorseTrust).map((m) => m.text)).toEqual(texts);
    expect(notifications.map((n) => n.seq)).toEqual(texts.map((_, i) => i + 1));
    // Each ack carries the message it stored: the i-th send got seq i+1.
    expect(settled.map((ack) => (ack.success ? (ack.data as MessageView).seq : -1))).toEqual(
      texts.map((_, i) => i + 1),
    );

    const stored = await Message.find({ conversation_id: conv }).sort({ seq: 1 }).lean();
    expect(stored.map((m) => [m.seq, m.text])).toEqual(texts.map((text, i) => [i + 1, text]));
    await settle(QUIET_MS);
    expect(toB).toHaveLength(BURST);
    expect(outsiderSaw).toEqual([]);
  });
});
