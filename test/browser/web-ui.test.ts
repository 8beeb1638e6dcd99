// The Temporal Web UI as an operator uses it: find a campaign workflow by its CampaignId, open it, and read
// its input, which Temporal only holds encrypted, decoded by the codec server the dev server points the UI at.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import type { Config } from '../../src/config';
import { startConfiguredCodecServer } from '../../src/ops/codec-server';
import type { RunningHttpServer } from '../../src/ops/http';
import { PROJECT_ROOT, resolveTemporalCli } from '../../src/temporal/cli-binary';
import { ENCRYPTED_ENCODING } from '../../src/temporal/codec';
import { connectClient } from '../../src/temporal/connection';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server';
import { CAMPAIGN_ID } from '../../src/temporal/search-attributes';
import { TASK_QUEUES } from '../../src/temporal/task-queues';
import { testConfig } from '../support/config';
import { freePort } from '../support/ports';
import { waitFor } from '../support/wait';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

describe('Web UI with the codec server', () => {
  let config: Config;
  let codecServer: RunningHttpServer;
  let devServer: DevServer;
  let client: Client;
  let browser: Browser;
  const campaignId = randomUUID();
  const workflowId = `campaign-${campaignId}`;
  const token = randomBytes(32).toString('hex');
  /** Status of every answer the codec server gave the browser. */
  const codecAnswers: number[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
    const uiPort = await freePort();
    const uiOrigin = `http://127.0.0.1:${uiPort}`;
    const temporalAddress = `127.0.0.1:${await freePort()}`;
    config = testConfig({
      TEMPORAL_ADDRESS: temporalAddress,
      PAYLOAD_ENCRYPTION_KEY_ID: 'ui-test',
      PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CODEC_SERVER_ADDRESS: `127.0.0.1:${await freePort()}`,
      CODEC_SERVER_TOKEN: token,
      CODEC_SERVER_ALLOWED_ORIGIN: uiOrigin,
    });
    codecServer = (await startConfiguredCodecServer(config, pino({ level: 'silent' })))!;
    devServer = await startDevServer({
      binary: await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined }),
      address: temporalAddress,
      namespace: config.temporal.namespace,
      uiPort,
      uiCodecEndpoint: codecServer.url,
    });
    client = await connectClient(config);
    // No worker: the campaign stays running, which is when an operator looks at it.
    await client.workflow.start('campaignWorkflow', {
      taskQueue: TASK_QUEUES.campaigns,
      workflowId,
      args: [{ campaignId }],
      typedSearchAttributes: [{ key: CAMPAIGN_ID, value: campaignId }],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  });

  after(async () => {
    await browser?.close();
    await client?.connection.close();
    await devServer?.stop();
    await codecServer?.close();
  });

  /** Opens the workflow list filtered by CampaignId, then the campaign's page, and waits until its text matches `shows`. */
  async function openCampaign(page: Page, shows: RegExp): Promise<string> {
    page.on('response', (response) => {
      if (response.url().startsWith(codecServer.url)) codecAnswers.push(response.status());
    });
    const query = encodeURIComponent(`CampaignId="${campaignId}"`);
    await page.goto(`${devServer.uiUrl}/namespaces/${config.temporal.namespace}/workflows?query=${query}`);
    const link = page.getByRole('link', { name: workflowId });
    await link.waitFor({ timeout: 60_000 });
    await link.click();
    let text = '';
    try {
      return await waitFor(
        async () => {
          text = await page.locator('body').innerText();
          return shows.test(text) ? text : undefined;
        },
        { timeoutMs: 60_000, message: `the workflow page to show ${shows}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\npage text:\n${text}`);
    }
  }

  it('shows only ciphertext to a browser without the codec token', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      // After the codec server's 401 the UI falls back to the stored form: base64 ciphertext.
      const text = await openCampaign(await context.newPage(), /Input[\s⌄]*"[A-Za-z0-9+/]{40,}={0,2}"\s*Result/);
      assert.ok(!/"campaignId"/.test(text));
      assert.ok(codecAnswers.includes(401), `codec server answers: ${codecAnswers.join(', ')}`);
    } finally {
      await context.close();
    }
  });

  it('finds the campaign by CampaignId and shows its input decoded by the codec server', async () => {
    codecAnswers.length = 0;
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      const page = await context.newPage();
      // The operator's bearer token, sent only to the codec server (as an authenticating proxy in front of it would).
      await page.route(`${codecServer.url}/**`, (route) => route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${token}` } }));
      await openCampaign(page, new RegExp(`Input[\\s⌄]*\\{\\s*"campaignId":\\s*"${campaignId}"\\s*\\}\\s*Result`));
      assert.ok(codecAnswers.length > 0 && codecAnswers.every((status) => status === 200), `codec server answers: ${codecAnswers.join(', ')}`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-ui-campaign-decoded-input.png'), fullPage: true });
    } finally {
      await context.close();
    }

    // What Temporal itself holds is the encrypted form.
    const { history } = await client.workflowService.getWorkflowExecutionHistory({ namespace: config.temporal.namespace, execution: { workflowId } });
    const input = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    assert.equal(Buffer.from(input.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.ok(!Buffer.from(input.data!).includes(campaignId));
  });
});
