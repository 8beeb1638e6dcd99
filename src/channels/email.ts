// The `email` channel: SMTP through nodemailer, or the log transport when SMTP_URL is unset.
import nodemailer from 'nodemailer';
import { z } from 'zod';
import type { Logger } from '../logger';
import { PermanentDeliveryError, TransientDeliveryError, type ChannelSender, type OutgoingMessage } from './channel';
import { createLogChannel } from './log';

const emailAddress = z.string().email();

/** The one address check of the service: the email channel and campaign recipient files agree on it. */
export function isEmailAddress(value: string): boolean {
  return emailAddress.safeParse(value).success;
}

/** A Message-ID derived from the idempotency key: a resend after a crash carries the same id. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '.')}@notification-jobs>`;
}

export interface EmailChannelOptions {
  smtpUrl?: string;
  from: string;
  logger: Logger;
}

export function createEmailChannel({ smtpUrl, from, logger }: EmailChannelOptions): ChannelSender {
  const fallback = smtpUrl ? undefined : createLogChannel(logger);
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl, { pool: true, maxConnections: 5 } as never) : undefined;

  return {
    channel: 'email',
    async send(message: OutgoingMessage) {
      if (!isEmailAddress(message.to)) throw new PermanentDeliveryError('Invalid email address');
      const messageId = messageIdFor(message.idempotencyKey);
      if (!transport) return { ...(await fallback!.send(message)), providerMessageId: messageId };
      try {
        await transport.sendMail({
          from,
          to: message.to,
          subject: message.subject ?? '',
          html: message.body,
          messageId,
          headers: { 'X-Idempotency-Key': message.idempotencyKey },
        });
        return { providerMessageId: messageId };
      } catch (error) {
        const responseCode = (error as { responseCode?: number }).responseCode;
        const reason = `SMTP ${responseCode ?? 'error'}: ${(error as Error).message}`;
        // 5xx is the server's final word on this message; anything else (4xx, network) may pass later.
        if (responseCode !== undefined && responseCode >= 500) throw new PermanentDeliveryError(reason);
        throw new TransientDeliveryError(reason);
      }
    },
    async close() {
      transport?.close();
    },
  };
}
