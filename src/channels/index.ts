import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Channels } from './channel';
import { createEmailChannel } from './email';
import { createLogChannel } from './log';
import { createWebhookChannel } from './webhook';

export * from './channel';

export function createChannels(config: Pick<Config, 'delivery'>, logger: Logger): Channels {
  return {
    email: createEmailChannel({ smtpUrl: config.delivery.smtpUrl, from: config.delivery.mailFrom, logger }),
    webhook: createWebhookChannel({ signingSecret: config.delivery.webhookSigningSecret, timeoutMs: config.delivery.webhookTimeoutMs }),
    log: createLogChannel(logger),
  };
}

export async function closeChannels(channels: Channels): Promise<void> {
  await Promise.all(Object.values(channels).map((channel) => channel.close?.()));
}
