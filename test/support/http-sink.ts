// A real HTTP server on loopback that receives webhooks like an idempotent provider: it verifies the
// signature, delivers each Idempotency-Key once (a repeat is acknowledged, not delivered again), and can
// fail chosen recipients or answer slowly.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookDelivery {
  idempotencyKey: string;
  /** The last path segment: tests address each recipient as `<url>/hooks/<recipientId>`. */
  recipientId: string;
  body: { idempotencyKey?: string; subject?: string; body?: string; metadata?: Record<string, string> };
  signatureValid: boolean;
}

export interface HttpSink {
  url: string;
  urlFor(recipientId: string): string;
  /** First accepted request per key: what the provider actually delivered. */
  deliveries: WebhookDelivery[];
  /** Every request, in arrival order, with the status it was answered. */
  requests: Array<{ idempotencyKey: string; recipientId: string; status: number; receivedAt: number }>;
  /** Accepted requests whose key was already delivered (a resend after a crash). */
  replays: number;
  /** Deliveries per idempotency key: every value should be 1. */
  deliveriesByIdempotencyKey(): Map<string, number>;
  /** Requests per idempotency key, including failed ones and replays. */
  requestsByIdempotencyKey(): Map<string, number>;
  /** Recipients for which `rule` returns a status are answered with it (e.g. 503 transient, 400 permanent). */
  fail(rule: ((recipientId: string) => number | undefined) | undefined): void;
  /** Milliseconds to wait before answering each request. */
  setDelay(ms: number): void;
  stop(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function isSignedBy(secret: string | undefined, timestamp: string, body: string, signature: string): boolean {
  if (!secret) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function startHttpSink(options: { signingSecret?: string } = {}): Promise<HttpSink> {
  const deliveries: WebhookDelivery[] = [];
  const requests: HttpSink['requests'] = [];
  const delivered = new Map<string, number>();
  let rule: ((recipientId: string) => number | undefined) | undefined;
  let delayMs = 0;
  let replays = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const raw = await readBody(request);
    const receivedAt = Date.now();
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const idempotencyKey = String(request.headers['idempotency-key'] ?? '');
    const recipientId = decodeURIComponent((request.url ?? '').split('/').pop() ?? '');
    const refused = rule?.(recipientId);
    const status = refused ?? (idempotencyKey ? 200 : 400);
    requests.push({ idempotencyKey, recipientId, status, receivedAt });
    if (status >= 200 && status < 300) {
      if (delivered.has(idempotencyKey)) {
        replays += 1;
        response.setHeader('Idempotent-Replayed', 'true');
      } else {
        delivered.set(idempotencyKey, 1);
        let body: WebhookDelivery['body'] = {};
        try {
          body = JSON.parse(raw);
        } catch {
          // kept empty: the test sees signatureValid and an empty body
        }
        const signature = String(request.headers['x-notification-signature'] ?? '');
        const timestamp = String(request.headers['x-notification-timestamp'] ?? '');
        deliveries.push({ idempotencyKey, recipientId, body, signatureValid: isSignedBy(options.signingSecret, timestamp, raw, signature) });
      }
    }
    response.statusCode = status;
    response.setHeader('x-request-id', `sink-${requests.length}`);
    response.end();
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.statusCode = 500;
      response.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  const countBy = (items: Array<{ idempotencyKey: string }>) => {
    const counts = new Map<string, number>();
    for (const item of items) counts.set(item.idempotencyKey, (counts.get(item.idempotencyKey) ?? 0) + 1);
    return counts;
  };

  return {
    url,
    urlFor: (recipientId) => `${url}/hooks/${encodeURIComponent(recipientId)}`,
    deliveries,
    requests,
    get replays() {
      return replays;
    },
    deliveriesByIdempotencyKey: () => countBy(deliveries),
    requestsByIdempotencyKey: () => countBy(requests),
    fail(next) {
      rule = next;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
