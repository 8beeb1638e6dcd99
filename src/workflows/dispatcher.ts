// Every minute (schedule campaign-dispatcher): start campaign-<id> for each due campaign, a bounded number per run.
import { log, proxyActivities } from '@temporalio/workflow';
import type { CampaignActivities } from '../activities/campaign';
import type { DispatchReport } from './campaign-types';

const { findDueCampaigns, startCampaignWorkflows } = proxyActivities<CampaignActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 5 },
});

/**
 * Starting is idempotent: an open campaign-<id> makes the start a no-op, and a new run sends only if it
 * wins the campaign's claim in the database. So overlapping or retried dispatchers send nothing twice.
 */
export async function campaignDispatcherWorkflow(): Promise<DispatchReport> {
  const due = await findDueCampaigns();
  const outcomes = due.length > 0 ? await startCampaignWorkflows(due) : [];
  const report: DispatchReport = {
    due: due.length,
    started: outcomes.filter((item) => item.outcome === 'started').map((item) => item.campaignId),
    alreadyRunning: outcomes.filter((item) => item.outcome === 'already-running').map((item) => item.campaignId),
  };
  if (report.due > 0) log.info('campaigns dispatched', { due: report.due, started: report.started.length, alreadyRunning: report.alreadyRunning.length });
  return report;
}
