// Renders a campaign's templates for one recipient and hands the message to its channel, turning every
// failure into a ledger outcome: permanent (bad address, bad variables) or worth a retry.
import { PermanentDeliveryError, type ChannelSender } from '../channels/channel';
import { renderTemplate, TemplateError } from '../channels/templates';
import type { CampaignForSending, RecipientOutcome, RecipientToSend } from './ledger';

/** Stable per (campaign, recipient): the provider uses it to drop a resend after a crash. */
export function idempotencyKeyFor(campaignId: string, recipientId: string): string {
  return `${campaignId}:${recipientId}`;
}

export type DeliverRecipient = (recipient: RecipientToSend) => Promise<RecipientOutcome>;

export function createRecipientDelivery(
  campaign: Pick<CampaignForSending, 'id' | 'channel' | 'subject' | 'body'>,
  sender: ChannelSender,
  onOutcome: (outcome: RecipientOutcome['outcome']) => void = () => undefined,
): DeliverRecipient {
  // Email bodies are HTML, so values are escaped there; webhook and log bodies are plain text.
  const bodyMode = campaign.channel === 'email' ? 'html' : 'text';
  const deliver: DeliverRecipient = async ({ recipientId, address, variables }) => {
    try {
      const subject = campaign.subject ? renderTemplate(campaign.subject, variables, 'text') : undefined;
      const body = renderTemplate(campaign.body, variables, bodyMode);
      await sender.send({
        to: address,
        subject,
        body,
        idempotencyKey: idempotencyKeyFor(campaign.id, recipientId),
        metadata: { campaignId: campaign.id, recipientId },
      });
      return { recipientId, outcome: 'sent' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof TemplateError || error instanceof PermanentDeliveryError) return { recipientId, outcome: 'failed', error: message };
      return { recipientId, outcome: 'retry', error: message };
    }
  };
  return async (recipient) => {
    const outcome = await deliver(recipient);
    onOutcome(outcome.outcome);
    return outcome;
  };
}
