// Signals, update and query of campaignWorkflow: imported by the workflow and by every client that controls it.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CampaignProgress } from './campaign-types';

/** Stop sending after the batch in flight; the campaign is `paused` in the database until `resume`. */
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

/** Recipients per second (a positive number); returns the rate now in force. */
export const setRateUpdate = defineUpdate<number, [number]>('setRate');

export const progressQuery = defineQuery<CampaignProgress>('progress');

/** The validator's rule, also used by clients that want to check before sending. */
export function rateProblem(rate: unknown): string | undefined {
  if (typeof rate !== 'number') return `setRate takes a number of recipients per second, got ${JSON.stringify(rate) ?? typeof rate}`;
  if (!Number.isFinite(rate)) return `setRate needs a finite rate, got ${rate}`;
  if (rate <= 0) return `setRate needs a rate greater than 0 recipients per second, got ${rate}`;
  return undefined;
}
