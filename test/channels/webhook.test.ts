import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PermanentDeliveryError, TransientDeliveryError } from '../../src/channels/channel';
import { createWebhookChannel, signWebhook, WEBHOOK_HEADERS } from '../../src/channels/webhook';
import { freePort } from '../support/ports';
import { startHttpSink, type HttpSink } from '../support/http-sink';

const SECRET = 'webhook-test-secret-0123456789';

describe('webhook channel', () => {
  let sink: HttpSink;

  before(async () => {
    sink = await startHttpSink({ signingSecret: SECRET });
  });

  after(async () => {
    await sink.stop();
  });

  const channel = createWebhookChannel({ signingSecret: SECRET, timeoutMs: 2_000 });

  it('POSTs signed JSON with the idempotency key, which the receiver can verify', async () => {
    await channel.send({ to: sink.urlFor('alice'), subject: 'Hi', body: 'Hello Alice', idempotencyKey: 'campaign-1:alice', metadata: { campaignId: 'campaign-1' } });
    const delivery = sink.deliveries.find((item) => item.recipientId === 'alice')!;
    assert.equal(delivery.idempotencyKey, 'campaign-1:alice');
    assert.equal(delivery.signatureValid, true);
    assert.deepEqual(delivery.body, { idempotencyKey: 'campaign-1:alice', subject: 'Hi', body: 'Hello Alice', metadata: { campaignId: 'campaign-1' } });
  });

  it('signs "<timestamp>.<body>" with HMAC-SHA256 as documented', () => {
    // Reference value computed independently: HMAC-SHA256(key "secret", message '1700000000.{"a":1}').
    assert.equal(signWebhook('secret', '1700000000', '{"a":1}'), 'sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686');
    assert.notEqual(signWebhook('secret', '1700000000', '{"a":1}'), signWebhook('secret', '1700000001', '{"a":1}'));
    assert.deepEqual(Object.values(WEBHOOK_HEADERS), ['Idempotency-Key', 'X-Notification-Timestamp', 'X-Notification-Signature']);
  });

  it('tells transient failures (5xx, 429, 408, timeout, refused connection) from permanent ones (4xx, bad URL, no secret)', async () => {
    const statuses: Record<string, number> = { busy: 503, limited: 429, slow: 408, gone: 410, invalid: 422 };
    sink.fail((recipientId) => statuses[recipientId]);
    try {
      for (const recipient of ['busy', 'limited', 'slow']) {
        await assert.rejects(channel.send({ to: sink.urlFor(recipient), body: 'x', idempotencyKey: recipient }), TransientDeliveryError);
      }
      for (const recipient of ['gone', 'invalid']) {
        await assert.rejects(channel.send({ to: sink.urlFor(recipient), body: 'x', idempotencyKey: recipient }), PermanentDeliveryError);
      }
    } finally {
      sink.fail(undefined);
    }
    await assert.rejects(channel.send({ to: `http://127.0.0.1:${await freePort()}/hook`, body: 'x', idempotencyKey: 'refused' }), TransientDeliveryError);
    sink.setDelay(500);
    try {
      const impatient = createWebhookChannel({ signingSecret: SECRET, timeoutMs: 100 });
      await assert.rejects(impatient.send({ to: sink.urlFor('late'), body: 'x', idempotencyKey: 'late' }), TransientDeliveryError);
    } finally {
      sink.setDelay(0);
    }
    await assert.rejects(channel.send({ to: 'not a url', body: 'x', idempotencyKey: 'k' }), /Invalid webhook URL/);
    await assert.rejects(channel.send({ to: 'ftp://example.test/x', body: 'x', idempotencyKey: 'k' }), /must be http or https/);
    const unsigned = createWebhookChannel({ timeoutMs: 1_000 });
    await assert.rejects(unsigned.send({ to: sink.urlFor('x'), body: 'x', idempotencyKey: 'k' }), /WEBHOOK_SIGNING_SECRET is not set/);
  });
});
