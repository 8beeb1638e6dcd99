// A real SMTP server on loopback that keeps every message it accepts, and can refuse chosen recipients.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  subject: string;
  messageId: string;
  idempotencyKey: string;
  html: string;
}

export interface SmtpSink {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  /** How many messages arrived per idempotency key: every value should be 1. */
  countsByIdempotencyKey(): Map<string, number>;
  /** Recipients for which `refuse` returns a code are rejected at RCPT TO with it (4xx transient, 5xx permanent). */
  refuse(rule: ((address: string) => number | undefined) | undefined): void;
  stop(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let rule: ((address: string) => number | undefined) | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const code = rule?.(address.address);
      if (code) {
        const error = new Error(`recipient refused by the test sink`) as Error & { responseCode: number };
        error.responseCode = code;
        return callback(error);
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const to = [mail.to ?? []].flat().flatMap((group) => group.value.map((entry) => entry.address ?? ''));
          messages.push({
            to,
            subject: mail.subject ?? '',
            messageId: mail.messageId ?? '',
            idempotencyKey: String(mail.headers.get('x-idempotency-key') ?? ''),
            html: typeof mail.html === 'string' ? mail.html : '',
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    countsByIdempotencyKey() {
      const counts = new Map<string, number>();
      for (const message of messages) counts.set(message.idempotencyKey, (counts.get(message.idempotencyKey) ?? 0) + 1);
      return counts;
    },
    refuse(next) {
      rule = next;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
