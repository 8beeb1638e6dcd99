// The `log` channel: records a delivery in the logs instead of sending it anywhere.
import type { Logger } from '../logger';
import type { ChannelSender, OutgoingMessage } from './channel';

export function createLogChannel(logger: Logger): ChannelSender {
  return {
    channel: 'log',
    async send(message: OutgoingMessage) {
      // The address and body stay at debug: info logs carry no personal data.
      logger.debug({ to: message.to, subject: message.subject, body: message.body }, 'log channel message');
      logger.info({ channel: 'log', idempotencyKey: message.idempotencyKey, ...message.metadata }, 'delivered');
      return { providerMessageId: message.idempotencyKey };
    },
  };
}
