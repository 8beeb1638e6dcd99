// Records campaignWorkflow and campaignDispatcherWorkflow histories into test/histories/ for the replay tests.
// Run after a deliberate change of either workflow's behaviour: `npx tsx scripts/record-campaign-histories.ts`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCampaignWorkflow } from '../src/campaigns/start-workflow';
import { resolveTemporalCli } from '../src/temporal/cli-binary';
import { TASK_QUEUES } from '../src/temporal/task-queues';
import { pauseSignal, resumeSignal, setRateUpdate } from '../src/workflows/campaign-messages';
import { campaignWorkflowId } from '../src/workflows/campaign-types';
import { insertCampaign, readLedger, startCampaignHarness, waitForStatus, webhookRecipients } from '../test/campaigns/harness';
import { waitFor } from '../test/support/wait';

async function main() {
  const harness = await startCampaignHarness({
    CAMPAIGN_BATCH_SIZE: '5',
    CAMPAIGN_BATCH_MAX_MS: '1000',
    CAMPAIGN_HISTORY_LIMIT: '200',
    CAMPAIGN_MAX_ATTEMPTS: '3',
  });
  const cli = await resolveTemporalCli();
  const { client } = harness.temporal;
  const show = (name: string, workflowId: string, runId?: string) => {
    const file = path.join(__dirname, '..', 'test', 'histories', `${name}.json`);
    // The CLI writes the same JSON format as the Web UI's download, which the replayer reads.
    const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', harness.temporal.address, '--output', 'json'];
    writeFileSync(file, execFileSync(cli, runId ? [...args, '--run-id', runId] : args, { maxBuffer: 64 * 1024 * 1024 }));
    console.log(`recorded ${file}`);
  };
  const handleOf = (campaignId: string) => client.workflow.getHandle(campaignWorkflowId(campaignId));
  try {
    await harness.startWorker();

    // Retries, pause / resume and setRate, then completion.
    const seen = new Set<string>();
    harness.http.fail((recipientId) => {
      if (!['c00004', 'c00009'].includes(recipientId) || seen.has(recipientId)) return undefined;
      seen.add(recipientId);
      return 503;
    });
    const completed = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hi {{name}}', recipients: webhookRecipients(harness.http, 30, 'c'), ratePerSecond: 10 });
    await startCampaignWorkflow(client, completed);
    await waitFor(() => harness.http.deliveries.length >= 5);
    await handleOf(completed).signal(pauseSignal);
    await waitForStatus(harness.db, completed, ['paused']);
    await handleOf(completed).executeUpdate(setRateUpdate, { args: [50] });
    await handleOf(completed).signal(resumeSignal);
    await handleOf(completed).result();
    harness.http.fail(undefined);
    show('campaign-completed', campaignWorkflowId(completed));

    // A second start of a finished campaign: not claimed, nothing sent.
    await startCampaignWorkflow(client, completed);
    await handleOf(completed).result();
    show('campaign-not-claimed', campaignWorkflowId(completed));

    // Long enough to continue as new: the first run ends in ContinueAsNew, the last one completes.
    const long = await insertCampaign(harness.db, { channel: 'log', body: 'Hi {{name}}', recipients: webhookRecipients(harness.http, 250, 'l') });
    const firstRun = await startCampaignWorkflow(client, long).then(async () => (await handleOf(long).describe()).runId);
    await handleOf(long).result();
    show('campaign-continued-as-new', campaignWorkflowId(long), firstRun);
    show('campaign-continued-final-run', campaignWorkflowId(long));

    const cancelled = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hi {{name}}', recipients: webhookRecipients(harness.http, 100, 'x'), ratePerSecond: 20 });
    await startCampaignWorkflow(client, cancelled);
    await waitFor(async () => (await readLedger(harness.db, cancelled)).sent >= 5);
    await handleOf(cancelled).cancel();
    await handleOf(cancelled).result().catch(() => undefined);
    show('campaign-cancelled', campaignWorkflowId(cancelled));

    const malformed = await insertCampaign(harness.db, { channel: 'email', body: '{{#if name}}unclosed', recipients: [{ id: 'a', address: 'a@example.test' }] });
    await startCampaignWorkflow(client, malformed);
    await handleOf(malformed).result().catch(() => undefined);
    show('campaign-failed', campaignWorkflowId(malformed));

    for (let index = 0; index < 2; index += 1) {
      await insertCampaign(harness.db, { channel: 'log', body: 'Hi', recipients: [{ id: 'a', address: 'someone' }] });
    }
    await client.workflow.execute('campaignDispatcherWorkflow', { workflowId: 'campaign-dispatcher-recorded', taskQueue: TASK_QUEUES.campaigns });
    show('dispatcher-started', 'campaign-dispatcher-recorded');
    await client.workflow.execute('campaignDispatcherWorkflow', { workflowId: 'campaign-dispatcher-idle', taskQueue: TASK_QUEUES.campaigns });
    show('dispatcher-nothing-due', 'campaign-dispatcher-idle');
  } finally {
    await harness.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
