// With encryption configured, nothing personal reaches Temporal in plain text: inputs, activity inputs and
// results, failure messages, results. Operators still read it through the codec server with the CLI,
// and the worker's info/warn logs mask addresses even where the SDK logs a provider's error text.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Config } from '../../src/config';
import { startCodecServer } from '../../src/ops/codec-server';
import type { RunningHttpServer } from '../../src/ops/http';
import { resolveTemporalCli } from '../../src/temporal/cli-binary';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../src/temporal/codec';
import { connectClient, temporalConnectionOptions } from '../../src/temporal/connection';
import { createDataConverter } from '../../src/temporal/data-converter';
import { CAMPAIGN_ID } from '../../src/temporal/search-attributes';
import { installRuntime } from '../../src/workers/runtime';
import { testConfig } from '../support/config';
import { freePort } from '../support/ports';
import { startTestTemporal, type TestTemporal } from '../support/temporal';
import { waitFor } from '../support/wait';
import { greetingActivities } from './fixtures/greeting-activities';
import { findPersonalData } from './support/personal-data';

const run = promisify(execFile);
const TASK_QUEUE = 'ops-greetings';
const recipient = { address: `ada.${randomBytes(3).toString('hex')}@example.org`, name: 'Ada Lovelace' };
const campaignId = randomUUID();
const workflowId = `campaign-${campaignId}`;

describe('encrypted payloads', () => {
  let temporalServer: TestTemporal;
  let config: Config;
  let client: Client;
  let connection: NativeConnection;
  let codecServer: RunningHttpServer;
  const token = randomBytes(32).toString('hex');
  const logLines: string[] = [];
  let result: unknown;

  before(async () => {
    temporalServer = await startTestTemporal();
    config = testConfig({
      TEMPORAL_ADDRESS: temporalServer.address,
      LOG_LEVEL: 'info',
      PAYLOAD_ENCRYPTION_KEY_ID: '2024-06',
      PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    installRuntime(config, pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }));
    connection = await NativeConnection.connect(temporalConnectionOptions(config));
    client = await connectClient(config);
    codecServer = await startCodecServer({
      address: `127.0.0.1:${await freePort()}`,
      token,
      allowedOrigins: ['http://127.0.0.1:8233'],
      codec: new AesGcmPayloadCodec(config.payloadEncryption!),
      logger: pino({ level: 'silent' }),
    });

    const worker = await Worker.create({
      connection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('./fixtures/greeting-workflow'),
      activities: greetingActivities,
      dataConverter: createDataConverter(config),
    });
    result = await worker.runUntil(
      client.workflow.execute('greetingWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [{ campaignId, recipient }],
        typedSearchAttributes: [{ key: CAMPAIGN_ID, value: campaignId }],
        memo: { campaignId },
      }),
    );
  });

  after(async () => {
    await codecServer?.close();
    await client?.connection.close();
    await connection?.close();
    await temporalServer?.stop();
  });

  it('gives the codec-equipped client the decoded result, after a retried activity failure', () => {
    assert.deepEqual(result, { deliveredTo: recipient.address, greeting: `Hello ${recipient.name}` });
  });

  it('stores no address or name anywhere in the raw history, search attributes or memos', async () => {
    const findings = await findPersonalData(temporalServer.client, temporalServer.namespace, [recipient.address, recipient.name, 'Lovelace']);
    assert.deepEqual(findings, []);
    // The check is meaningful: the identifiers that are allowed there are found...
    const [found] = await findPersonalDataIds(temporalServer, campaignId);
    assert.equal(found, workflowId);
    // ...and an address sent without the codec is found where it landed.
    const control = `control.${randomBytes(3).toString('hex')}@example.org`;
    await temporalServer.client.workflow.start('greetingWorkflow', { taskQueue: 'ops-unpolled', workflowId: 'plain-control', args: [{ campaignId, recipient: { address: control, name: 'x' } }] });
    // Listing workflows goes through visibility, which sees a new workflow a moment after it started.
    const controlFindings = await waitFor(
      async () => {
        const findings = await findPersonalData(temporalServer.client, temporalServer.namespace, [control]);
        return findings.length > 0 ? findings : undefined;
      },
      { timeoutMs: 30_000, message: 'the control workflow to be listed' },
    );
    assert.deepEqual(controlFindings, [{ workflowId: 'plain-control', where: 'history', needle: control }]);
    await temporalServer.client.workflow.getHandle('plain-control').terminate();
  });

  it('stores payloads encrypted under the current key id, and failure messages encoded', async () => {
    const { history } = await temporalServer.client.workflowService.getWorkflowExecutionHistory({ namespace: temporalServer.namespace, execution: { workflowId } });
    const events = history?.events ?? [];
    const started = events.find((event) => event.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
    const input = started.input!.payloads![0]!;
    assert.equal(Buffer.from(input.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(input.metadata!['encryption-key-id']!).toString(), '2024-06');
    // Retried attempts are not events; the last failure rides on the started event of the attempt that succeeded.
    const lastFailure = events.find((event) => event.activityTaskStartedEventAttributes)?.activityTaskStartedEventAttributes?.lastFailure;
    assert.ok(lastFailure, 'the first activity attempt failed and was recorded');
    assert.equal(lastFailure.message, 'Encoded failure');
    assert.equal(lastFailure.stackTrace, '');
    assert.equal(Buffer.from(lastFailure.encodedAttributes!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    const completed = events.find((event) => event.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!;
    assert.equal(Buffer.from(completed.result!.payloads![0]!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
  });

  it('lets the temporal CLI show decoded payloads through the codec server with --codec-endpoint and --codec-auth', async () => {
    const binary = await resolveTemporalCli({ explicitPath: process.env.TEMPORAL_CLI_PATH || undefined });
    const show = (...extra: string[]) =>
      run(binary, ['workflow', 'show', '--workflow-id', workflowId, '--address', temporalServer.address, '--namespace', temporalServer.namespace, '--output', 'json', ...extra], {
        timeout: 60_000,
      }).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
      );
    const decoded = payloadText(await show('--codec-endpoint', codecServer.url, '--codec-auth', `Bearer ${token}`));
    assert.ok(decoded.includes(recipient.name), 'the decoded history shows the greeting');
    assert.ok(decoded.includes('mailbox busy'), 'the decoded failure message is readable');
    const plain = payloadText(await show());
    assert.ok(plain.length > 0 && !plain.includes(recipient.name) && !plain.includes(recipient.address));
  });

  it('masks addresses in the info and warn logs, even in a provider error the SDK logs', () => {
    const failureLine = logLines.find((line) => line.includes('Activity failed'));
    assert.ok(failureLine, 'the SDK logged the failed attempt');
    assert.match(failureLine, /mailbox busy/);
    assert.match(failureLine, /\[address\]/);
    for (const line of logLines) {
      assert.ok(!line.includes(recipient.address), `address in log line: ${line}`);
      assert.ok(!line.includes(recipient.name), `name in log line: ${line}`);
    }
  });
});

/** Workflow ids found by their CampaignId search attribute (raw call: the memo is encrypted). */
async function findPersonalDataIds(server: TestTemporal, id: string): Promise<string[]> {
  const { executions } = await server.client.workflowService.listWorkflowExecutions({ namespace: server.namespace, query: `CampaignId = '${id}'` });
  return executions.map((execution) => execution.execution?.workflowId ?? '');
}

/** The CLI's JSON keeps payload bytes in base64: every `data` field, decoded, joined. */
function payloadText(output: string): string {
  let document: unknown;
  try {
    document = JSON.parse(output);
  } catch {
    return '';
  }
  const texts: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'data' && typeof value === 'string') texts.push(Buffer.from(value, 'base64').toString('utf8'));
        else visit(value);
      }
    }
  };
  visit(document);
  return texts.join('\n');
}
