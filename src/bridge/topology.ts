// The exchanges and queues the bridge relies on, declared (idempotently) on every connect.
import type { Channel, Options } from 'amqplib';
import type { Config } from '../config';
import { EVENT_ROUTING_KEYS } from '../workflows/event-types';

export const TOPOLOGY = {
  /** Where other services publish their events. */
  eventsExchange: 'events',
  /** The bridge's work queue, bound to the routing keys it turns into notifications. */
  workQueue: 'notification-service.events',
  /** Everything that could not be processed ends here, with the reason in header `x-error`. */
  deadLetterExchange: 'dlx.notifications',
  deadLetterQueue: 'notification-service.events.dlq',
  /** Messages wait here for BRIDGE_RETRY_DELAY_MS, then expire back into the work queue. */
  retryQueue: 'notification-service.events.retry',
} as const;

export type QueueType = 'classic' | 'quorum';

export type BridgeTopologyConfig = Pick<Config['bridge'], 'messageTtlMs' | 'queueType'>;

interface QueueDeclaration {
  name: string;
  options: Options.AssertQueue & { arguments: Record<string, unknown> };
}

/** Which setting each declared argument comes from, for the migration message. */
const ARGUMENT_SOURCES: Record<string, string> = {
  'x-message-ttl': 'BRIDGE_MESSAGE_TTL_MS',
  'x-queue-type': 'BRIDGE_QUEUE_TYPE',
  'x-dead-letter-strategy': 'BRIDGE_QUEUE_TYPE',
  'x-overflow': 'BRIDGE_QUEUE_TYPE',
};

function queueTypeArguments(queueType: QueueType, deadLetters: boolean): Record<string, unknown> {
  if (queueType === 'classic') return { 'x-queue-type': 'classic' };
  // Quorum queues dead-letter at most once unless told otherwise; at-least-once needs reject-publish overflow.
  return deadLetters
    ? { 'x-queue-type': 'quorum', 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
    : { 'x-queue-type': 'quorum' };
}

export function queueDeclarations(config: BridgeTopologyConfig): QueueDeclaration[] {
  return [
    {
      name: TOPOLOGY.workQueue,
      options: {
        durable: true,
        arguments: {
          ...queueTypeArguments(config.queueType, true),
          'x-dead-letter-exchange': TOPOLOGY.deadLetterExchange,
          // 0 means "no TTL": an argument of 0 would expire every message no consumer takes at once.
          ...(config.messageTtlMs > 0 ? { 'x-message-ttl': config.messageTtlMs } : {}),
        },
      },
    },
    {
      name: TOPOLOGY.retryQueue,
      options: {
        durable: true,
        arguments: {
          ...queueTypeArguments(config.queueType, true),
          // Expired messages go straight back to the work queue (default exchange), not to `events`,
          // which would hand them again to every other service bound there.
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': TOPOLOGY.workQueue,
        },
      },
    },
    {
      name: TOPOLOGY.deadLetterQueue,
      options: { durable: true, arguments: queueTypeArguments(config.queueType, false) },
    },
  ];
}

/** A declaration the broker refused because what exists differs; start-up stops with this message. */
export class TopologyMismatchError extends Error {
  override name = 'TopologyMismatchError';
}

const INEQUIVALENT =
  /inequivalent arg '([^']+)' for (queue|exchange) '([^']+)' in vhost '([^']*)': received (?:the value )?'?(.*?)'?(?: of type '[^']*')? but current is (?:the value )?'?(.*?)'?(?: of type '[^']*')?$/;

export function explainMismatch(error: Error): TopologyMismatchError {
  const brokerText = /PRECONDITION_FAILED - (.*?)"?$/.exec(error.message)?.[1] ?? error.message;
  const match = INEQUIVALENT.exec(brokerText);
  if (!match) {
    return new TopologyMismatchError(
      `RabbitMQ refused the bridge's topology (PRECONDITION_FAILED): ${brokerText}. An existing exchange or queue was declared with other settings; compare it with \`rabbitmqctl list_queues name arguments\` and see "Migrating the queues" in the README.`,
    );
  }
  const [, argument, kind, name, vhost, wanted, current] = match as unknown as string[];
  const setting = ARGUMENT_SOURCES[argument!];
  const vhostFlag = vhost === '/' ? '' : ` -p ${vhost}`;
  const remedy =
    kind === 'queue'
      ? `Queue arguments cannot change in place. Either ${setting ? `set ${setting} so that it matches the existing queue, or ` : ''}migrate: stop every bridge, move or drain the queue's messages (for example with a shovel to a temporary queue), run \`rabbitmqctl delete_queue ${name}${vhostFlag}\`, then start the bridge, which declares it again with the new arguments.`
      : `An exchange's type and flags cannot change in place. Stop the publishers and bridges, run \`rabbitmqctl delete_exchange ${name}${vhostFlag}\` (its bindings go with it), then start the bridge, which declares it again.`;
  return new TopologyMismatchError(
    `RabbitMQ ${kind} "${name}" in vhost "${vhost}" already exists with ${argument} = ${current || 'none'}, but the bridge declares ${argument} = ${wanted || 'none'}${setting ? ` (from ${setting})` : ''}. ${remedy}`,
  );
}

function isPreconditionFailed(error: unknown): boolean {
  const { code, message } = error as { code?: number; message?: string };
  return code === 406 || /PRECONDITION[-_]FAILED/.test(message ?? '');
}

/** Declares everything; a conflict with what exists becomes a TopologyMismatchError. The channel is closed by the broker then. */
export async function assertTopology(channel: Channel, config: BridgeTopologyConfig): Promise<void> {
  try {
    await channel.assertExchange(TOPOLOGY.eventsExchange, 'topic', { durable: true });
    await channel.assertExchange(TOPOLOGY.deadLetterExchange, 'topic', { durable: true });
    for (const queue of queueDeclarations(config)) await channel.assertQueue(queue.name, queue.options);
    for (const routingKey of EVENT_ROUTING_KEYS) await channel.bindQueue(TOPOLOGY.workQueue, TOPOLOGY.eventsExchange, routingKey);
    await channel.bindQueue(TOPOLOGY.deadLetterQueue, TOPOLOGY.deadLetterExchange, '#');
  } catch (error) {
    if (isPreconditionFailed(error)) throw explainMismatch(error as Error);
    throw error;
  }
}
