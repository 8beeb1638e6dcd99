// Inputs, results and activity contracts of campaignWorkflow and campaignDispatcherWorkflow,
// shared by the workflows, their activities and clients. Identifiers only: no addresses.
import type { CampaignStatus } from '../db/schema';

export type { CampaignStatus };

/** The workflow ID of a campaign's workflow: one open run per campaign, whoever starts it. */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isCampaignId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export interface CampaignCounts {
  total: number;
  sent: number;
  failed: number;
}

/** What one run hands to the next when it continues as new. */
export interface CampaignCarryOver {
  claimToken: string;
  /** Last recipient id of the current pass whose outcome is recorded; null starts a pass from the beginning. */
  cursor: string | null;
  pass: number;
  /** Epoch ms before which the rate limit allows no send (the pace holds across batches and runs). */
  notBefore: number | null;
  ratePerSecond: number | null;
  paused: boolean;
  counts: CampaignCounts;
  historyLimit: number;
  batches: number;
  /** Runs of this campaign's chain so far, this one excluded. */
  previousRuns: number;
}

export interface CampaignWorkflowInput {
  campaignId: string;
  /** Set only by continue-as-new. */
  carryOver?: CampaignCarryOver;
}

/** `progress` query: the fields operators rely on first. */
export interface CampaignProgress {
  status: CampaignStatus | 'claiming';
  total: number;
  sent: number;
  failed: number;
  pending: number;
  /** Recipients per second; null means as fast as the send concurrency allows. */
  ratePerSecond: number | null;
  campaignId: string;
  /** Batches sent by the whole chain of runs. */
  batches: number;
  /** 1 for the first run, +1 per continue-as-new. */
  run: number;
  failureReason?: string;
}

export type CampaignOutcome = 'completed' | 'cancelled' | 'failed' | 'not-claimed';

export interface CampaignResult extends CampaignCounts {
  campaignId: string;
  outcome: CampaignOutcome;
  /** The campaign's status in the database when the run ended. */
  status: CampaignStatus;
  pending: number;
  batches: number;
  runs: number;
  reason?: string;
}

// ---- activity contracts -------------------------------------------------------------------

/** Activity error types retrying cannot fix. */
export const CAMPAIGN_NON_RETRYABLE = ['InvalidCampaignId', 'CampaignNotFound', 'ClaimLost', 'ChannelUnavailable', 'InvalidRate'] as const;
export type CampaignErrorType = (typeof CAMPAIGN_NON_RETRYABLE)[number];

export interface ClaimRequest {
  campaignId: string;
  claimToken: string;
}

export type ClaimResult =
  | { outcome: 'claimed'; counts: CampaignCounts; ratePerSecond: number | null; historyLimit: number }
  /** Someone else holds it, or it is not scheduled: this run sends nothing. */
  | { outcome: 'not-claimable'; status: CampaignStatus; counts: CampaignCounts }
  /** It can never be sent as it is (channel unavailable, malformed template): now `failed`. */
  | { outcome: 'invalid'; reason: string; counts: CampaignCounts };

export interface SendBatchRequest {
  campaignId: string;
  claimToken: string;
  cursor: string | null;
  ratePerSecond: number | null;
  notBefore: number | null;
}

export interface SendBatchResult {
  /** Where the next batch of this pass starts. */
  cursor: string | null;
  /** No due pending recipient is left after `cursor`. */
  endOfPass: boolean;
  /** Outcomes recorded by this attempt. */
  sent: number;
  failed: number;
  retrying: number;
  /** The ledger's exact totals after this batch. */
  counts: CampaignCounts;
  notBefore: number | null;
  /** At the end of a pass: recipients still pending (waiting for a retry, or re-driven meanwhile). */
  pendingLeft?: number;
  /** At the end of a pass: ms until the earliest of them is due (0 when one is due now). */
  nextDueInMs?: number;
  /** The campaign was paused or cancelled in the database, not through the workflow. */
  interruptedBy?: 'paused' | 'cancelled';
}

export interface FinishRequest {
  campaignId: string;
  claimToken: string;
  outcome: 'completed' | 'cancelled' | 'failed';
  reason?: string;
}

export type FinishResult =
  | { finished: true; status: CampaignStatus; counts: CampaignCounts }
  /** Recipients became pending again (a re-drive) after the pass ended: keep sending. */
  | { finished: false; pendingLeft: number; counts: CampaignCounts };

export interface DispatchOutcome {
  campaignId: string;
  outcome: 'started' | 'already-running';
}

export interface DispatchReport {
  due: number;
  started: string[];
  alreadyRunning: string[];
}
