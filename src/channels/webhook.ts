// The `webhook` channel: an HTTP POST of JSON, signed with HMAC-SHA256 over "<timestamp>.<body>".
import { createHmac } from 'node:crypto';
import { PermanentDeliveryError, TransientDeliveryError, type ChannelSender, type OutgoingMessage } from './channel';

export const WEBHOOK_HEADERS = {
  idempotencyKey: 'Idempotency-Key',
  timestamp: 'X-Notification-Timestamp',
  signature: 'X-Notification-Signature',
} as const;

/** `sha256=<hex>` of HMAC-SHA256(secret, `${timestamp}.${body}`); receivers recompute it to verify. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookChannelOptions {
  signingSecret?: string;
  timeoutMs: number;
  now?: () => Date;
}

export function createWebhookChannel({ signingSecret, timeoutMs, now = () => new Date() }: WebhookChannelOptions): ChannelSender {
  return {
    channel: 'webhook',
    async send(message: OutgoingMessage) {
      if (!signingSecret) throw new PermanentDeliveryError('WEBHOOK_SIGNING_SECRET is not set: webhooks are never sent unsigned');
      let url: URL;
      try {
        url = new URL(message.to);
      } catch {
        throw new PermanentDeliveryError('Invalid webhook URL');
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PermanentDeliveryError('Webhook URL must be http or https');

      const body = JSON.stringify({ idempotencyKey: message.idempotencyKey, subject: message.subject, body: message.body, metadata: message.metadata ?? {} });
      const timestamp = String(Math.floor(now().getTime() / 1000));
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [WEBHOOK_HEADERS.idempotencyKey]: message.idempotencyKey,
            [WEBHOOK_HEADERS.timestamp]: timestamp,
            [WEBHOOK_HEADERS.signature]: signWebhook(signingSecret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
      } catch (error) {
        throw new TransientDeliveryError(`Webhook request failed: ${(error as Error).message}`);
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { providerMessageId: response.headers.get('x-request-id') ?? undefined };
      const reason = `Webhook answered HTTP ${response.status}`;
      if (response.status === 408 || response.status === 429 || response.status >= 500) throw new TransientDeliveryError(reason);
      throw new PermanentDeliveryError(reason);
    },
  };
}
