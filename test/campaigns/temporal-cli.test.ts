// The operator commands the README gives for a running campaign, run with the real `temporal` CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startCampaignWorkflow } from '../../src/campaigns/start-workflow';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { waitFor } from '../support/wait';
import { insertCampaign, readLedger, startCampaignHarness, waitForStatus, webhookRecipients, type CampaignHarness } from './harness';

describe('controlling a campaign with the temporal CLI', () => {
  let harness: CampaignHarness;
  let binary: string;

  before(async () => {
    harness = await startCampaignHarness({ CAMPAIGN_BATCH_MAX_MS: '1000' });
    await harness.startWorker();
    binary = await resolveTemporalCli();
  });

  after(async () => {
    await harness?.stop();
  });

  const temporal = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(binary, [...args, '--address', harness.temporal.address], { timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('queries, pauses, resumes, changes the rate, finds and cancels campaign-<id>', async () => {
    const campaignId = await insertCampaign(harness.db, { channel: 'webhook', body: 'Hi {{name}}', recipients: webhookRecipients(harness.http, 200, 't'), ratePerSecond: 10 });
    await startCampaignWorkflow(harness.temporal.client, campaignId);
    const workflowId = `campaign-${campaignId}`;

    const progress = await waitFor(
      async () => {
        const query = await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'progress', '--output', 'json');
        assert.equal(query.code, 0, query.stderr);
        const answer = JSON.parse(query.stdout).queryResult[0];
        return answer.status === 'claiming' ? undefined : answer;
      },
      { timeoutMs: 30_000, message: 'the campaign to be claimed' },
    );
    assert.equal(progress.total, 200);
    assert.equal(progress.ratePerSecond, 10);
    assert.equal(progress.status, 'processing');

    assert.equal((await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'pause')).code, 0);
    await waitForStatus(harness.db, campaignId, ['paused'], 30_000);

    const rejected = await temporal('workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'setRate', '--input', '0');
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /setRate needs a rate greater than 0 recipients per second, got 0/);
    const accepted = await temporal('workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'setRate', '--input', '40', '--output', 'json');
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /"result":\s*40\b/);

    assert.equal((await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'resume')).code, 0);
    await waitForStatus(harness.db, campaignId, ['processing'], 30_000);

    const listed = await temporal('workflow', 'list', '--query', `CampaignId = '${campaignId}'`, '--output', 'json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(workflowId));

    assert.equal((await temporal('workflow', 'cancel', '--workflow-id', workflowId)).code, 0);
    const cancelled = await waitForStatus(harness.db, campaignId, ['cancelled'], 60_000);
    assert.equal(cancelled.pending, 0);
    assert.ok(cancelled.sent < 200, 'cancelled before the end');
    assert.equal((await readLedger(harness.db, campaignId)).sent, harness.http.deliveries.filter((delivery) => delivery.idempotencyKey.startsWith(campaignId)).length);
  });
});
