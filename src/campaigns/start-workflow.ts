// Starting campaign-<id>: shared by the dispatcher and the operator CLI, with the same ID policies.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { CAMPAIGN_ID } from '../temporal/search-attributes';
import { TASK_QUEUES } from '../temporal/task-queues';
import { campaignWorkflowId, type CampaignResult, type CampaignWorkflowInput } from '../workflows/campaign-types';

export type StartOutcome = 'started' | 'already-running';

/**
 * A start while campaign-<id> is open fails (conflict policy FAIL) and counts as done; a start after a
 * closed run is allowed (reuse policy ALLOW_DUPLICATE) because the campaign's claim in the database,
 * not the workflow ID, decides whether anything is sent.
 */
export async function startCampaignWorkflow(client: Client, campaignId: string): Promise<StartOutcome> {
  try {
    await client.workflow.start<(input: CampaignWorkflowInput) => Promise<CampaignResult>>('campaignWorkflow', {
      workflowId: campaignWorkflowId(campaignId),
      taskQueue: TASK_QUEUES.campaigns,
      args: [{ campaignId }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: CAMPAIGN_ID, value: campaignId }],
    });
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-running';
    throw error;
  }
}
