// What happens to one delivered message: validate, start its workflow, or route it to the retry or dead-letter path; then ack.
import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { parseEventMessage } from './events';
import { attemptsSoFar, HEADERS, originalRoutingKey, republishOptions } from './headers';
import { TOPOLOGY } from './topology';
import { isPermanentStartFailure, isTemporalUnreachable, startEventNotification } from './workflow-start';

export type MessageOutcome = 'started' | 'duplicate' | 'retried' | 'dead-lettered';

export interface MessageHandlerDependencies {
  config: Pick<Config, 'bridge'>;
  logger: Logger;
  client: () => Client;
  /** Told when a start failed because Temporal cannot be reached, so consuming can pause. */
  onTemporalUnreachable?: () => void;
}

/** Publishes and resolves once the broker has confirmed the message is stored (publisher confirms). */
export function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, content, options, (error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()));
    } catch (error) {
      reject(error);
    }
  });
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message && !message.includes(cause.message) ? `${message}: ${cause.message}` : message;
}

export function createMessageHandler({ config, logger, client, onTemporalUnreachable }: MessageHandlerDependencies) {
  const { maxAttempts, retryDelayMs, maxMessageBytes } = config.bridge;

  /**
   * Publishes a copy of `message` with `headers` added. When the publisher's own headers leave no room
   * in the 64 KiB header table, the copy keeps only the bridge's: the reason and the body are what matter.
   */
  async function republish(channel: ConfirmChannel, exchange: string, routingKey: string, message: ConsumeMessage, headers: Record<string, unknown>, extra: Options.Publish = {}) {
    try {
      await publishConfirmed(channel, exchange, routingKey, message.content, { ...republishOptions(message, headers), ...extra });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      await publishConfirmed(channel, exchange, routingKey, message.content, { ...republishOptions(message, headers), headers, ...extra });
    }
  }

  function deadLetter(channel: ConfirmChannel, message: ConsumeMessage, routingKey: string, reason: string, attempts: number): Promise<void> {
    return republish(channel, TOPOLOGY.deadLetterExchange, routingKey, message, {
      [HEADERS.error]: reason.slice(0, 1_000),
      [HEADERS.routingKey]: routingKey,
      [HEADERS.attempts]: attempts,
      [HEADERS.deadLetteredAt]: new Date().toISOString(),
    });
  }

  function retryLater(channel: ConfirmChannel, message: ConsumeMessage, routingKey: string, attempts: number): Promise<void> {
    // Every retried message waits the same delay, so the retry queue's head always expires first.
    return republish(channel, '', TOPOLOGY.retryQueue, message, { [HEADERS.attempts]: attempts, [HEADERS.routingKey]: routingKey }, { expiration: String(retryDelayMs) });
  }

  /** Settles the message one way or another; rejects only when the channel broke (the broker then redelivers it). */
  return async function handleMessage(channel: ConfirmChannel, message: ConsumeMessage): Promise<MessageOutcome> {
    const routingKey = originalRoutingKey(message);
    const previousAttempts = attemptsSoFar(message);
    const context = { routingKey, messageId: message.properties.messageId };
    const parsed = parseEventMessage({ routingKey, content: message.content, messageId: message.properties.messageId }, maxMessageBytes);

    if (!parsed.ok) {
      await deadLetter(channel, message, routingKey, parsed.reason, previousAttempts);
      channel.ack(message);
      logger.warn({ ...context, reason: parsed.reason }, 'message dead-lettered: it can never become a notification');
      return 'dead-lettered';
    }

    const { event } = parsed;
    try {
      const outcome = await startEventNotification(client(), event);
      channel.ack(message);
      logger.debug({ ...context, eventId: event.eventId, outcome }, 'event handed to Temporal');
      return outcome;
    } catch (error) {
      const reason = describeError(error);
      const attempts = previousAttempts + 1;
      if (isPermanentStartFailure(error)) {
        await deadLetter(channel, message, routingKey, `Temporal refused the workflow start: ${reason}`, attempts);
        channel.ack(message);
        logger.warn({ ...context, eventId: event.eventId, reason }, 'message dead-lettered: Temporal refused the start');
        return 'dead-lettered';
      }
      if (isTemporalUnreachable(error)) onTemporalUnreachable?.();
      if (attempts >= maxAttempts) {
        await deadLetter(channel, message, routingKey, `Could not start the workflow after ${attempts} attempts: ${reason}`, attempts);
        channel.ack(message);
        logger.warn({ ...context, eventId: event.eventId, attempts, reason }, 'message dead-lettered: out of attempts');
        return 'dead-lettered';
      }
      await retryLater(channel, message, routingKey, attempts);
      channel.ack(message);
      logger.info({ ...context, eventId: event.eventId, attempts, retryInMs: retryDelayMs, reason }, 'workflow start failed; retrying later');
      return 'retried';
    }
  };
}
