import request from 'supertest';
import { Message } from '../../models';
import { createConversation, createUsers } from '../factories';
import { buildTestApp } from '../helpers/app';

describe('smoke', () => {
  it('sends a message and reads it back', async () => {
    const { app } = buildTestApp();
    const [a, b] = await createUsers(2);
    const conv = await createConversation([a, b]);
    const sent = await request(app)
      .post(`/api/chat/conversations/${conv}/messages`)
      .set('Authorization', `Bearer ${a.token}`)
      .send({ text: '  Is this horse still available?  ' });
    expect(sent.status).toBe(201);
    expect(sent.body.data.text).toBe('Is this horse still available?');
    expect(sent.body.data.sender_id).toBe(a.id);
    const history = await request(app)
      .get(`/api/chat/conversations/${conv}/messages`)
      .set('Authorization', `Bearer ${b.token}`);
    expect(history.status).toBe(200);
    expect(history.body.data).toHaveLength(1);
    expect(history.body.data[0].sender_id.full_name).toBe(a.full_name);
    expect(history.body.data[0].is_read).toBe(true);
    expect(await Message.countDocuments({ is_read: true })).toBe(1);
  });
});
