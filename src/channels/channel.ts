// The one interface every delivery channel implements, and the errors that tell retry from give-up.
import type { Channel } from '../db/schema';

export type { Channel };

export interface OutgoingMessage {
  /** An email address, or a URL for webhooks. */
  to: string;
  subject?: string;
  /** Already rendered. */
  body: string;
  /** Stable per (campaign, recipient) or per event: providers use it to drop duplicates. */
  idempotencyKey: string;
  /** Identifiers only (campaign id, event type): never personal data. */
  metadata?: Record<string, string>;
}

export interface DeliveryReceipt {
  /** The provider's id for the message, when it gives one. */
  providerMessageId?: string;
}

export interface ChannelSender {
  readonly channel: Channel;
  send(message: OutgoingMessage): Promise<DeliveryReceipt>;
  close?(): Promise<void>;
}

export type Channels = Record<Channel, ChannelSender>;

/** The message can never be delivered as it is (bad address, rejected by the provider): do not retry. */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
}

/** A failure worth retrying later (timeout, provider busy or down). */
export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
}
