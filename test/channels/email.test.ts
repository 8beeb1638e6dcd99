import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PermanentDeliveryError, TransientDeliveryError } from '../../src/channels/channel';
import { createEmailChannel, messageIdFor } from '../../src/channels/email';
import { createLogger } from '../../src/logger';
import { testConfig } from '../support/config';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';

describe('email channel', () => {
  let sink: SmtpSink;
  const logger = createLogger(testConfig({ LOG_LEVEL: 'silent' }));

  before(async () => {
    sink = await startSmtpSink();
  });

  after(async () => {
    await sink.stop();
  });

  it('sends over SMTP with a Message-ID derived from the idempotency key, so a resend is recognisable', async () => {
    const channel = createEmailChannel({ smtpUrl: sink.url, from: 'news@example.test', logger });
    try {
      const receipt = await channel.send({ to: 'ann@example.test', subject: 'Hello Ann', body: '<p>Hello &lt;Ann&gt;</p>', idempotencyKey: 'c1:ann' });
      assert.equal(receipt.providerMessageId, messageIdFor('c1:ann'));
      const mail = sink.messages.find((message) => message.idempotencyKey === 'c1:ann')!;
      assert.deepEqual(mail.to, ['ann@example.test']);
      assert.equal(mail.subject, 'Hello Ann');
      assert.equal(mail.messageId, messageIdFor('c1:ann'));
      assert.match(mail.html, /<p>Hello &lt;Ann&gt;<\/p>/);
    } finally {
      await channel.close?.();
    }
    assert.equal(messageIdFor('c1:ann'), messageIdFor('c1:ann'));
    assert.notEqual(messageIdFor('c1:ann'), messageIdFor('c1:bob'));
    assert.match(messageIdFor('6f1c:weird id/<x>'), /^<[A-Za-z0-9._-]+@notification-jobs>$/);
  });

  it('treats a 4xx refusal as transient, a 5xx refusal and a malformed address as permanent', async () => {
    const channel = createEmailChannel({ smtpUrl: sink.url, from: 'news@example.test', logger });
    sink.refuse((address) => (address.startsWith('full@') ? 452 : address.startsWith('nobody@') ? 550 : undefined));
    try {
      await assert.rejects(channel.send({ to: 'full@example.test', body: 'x', idempotencyKey: 'k1' }), TransientDeliveryError);
      await assert.rejects(channel.send({ to: 'nobody@example.test', body: 'x', idempotencyKey: 'k2' }), PermanentDeliveryError);
      await assert.rejects(channel.send({ to: 'not-an-address', body: 'x', idempotencyKey: 'k3' }), /Invalid email address/);
    } finally {
      sink.refuse(undefined);
      await channel.close?.();
    }
  });

  it('without SMTP_URL records the message through the log transport instead of the network', async () => {
    const before = sink.messages.length;
    const channel = createEmailChannel({ from: 'news@example.test', logger });
    const receipt = await channel.send({ to: 'ann@example.test', body: 'x', idempotencyKey: 'c2:ann' });
    assert.equal(receipt.providerMessageId, messageIdFor('c2:ann'));
    assert.equal(sink.messages.length, before);
  });
});
