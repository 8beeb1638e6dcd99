import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/ports';
import { runCampaignsCli } from './cli';

describe('campaigns CLI', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'campaigns-cli-'));
  const file = (name: string, content: string) => {
    const target = path.join(dir, name);
    writeFileSync(target, content);
    return target;
  };

  before(async () => {
    database = await createTestDatabase();
    // Nothing listens there: commands that only need the database must not depend on Temporal.
    env = { DATABASE_URL: database.url, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, LOG_LEVEL: 'warn' };
  });

  after(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const campaignCount = async () => (await database.db.selectFrom('notification_campaigns').select(({ fn }) => fn.countAll<number>().as('count')).executeTakeFirstOrThrow()).count;

  it('creates a scheduled campaign from a CSV file, all recipients with their variables', async () => {
    const csv = file('spring.csv', 'recipient_id,address,name\nu1,ann@example.test,Ann\nu2,bob@example.test,Bob\n');
    const result = await runCampaignsCli(['create', '--name', 'Spring sale', '--channel', 'email', '--subject', 'Hi {{name}}', '--body', '<p>{{name}}</p>', '--recipients', csv, '--now', '--rate', '25'], env);
    assert.equal(result.code, 0, result.stderr);
    const [, id] = /^Created campaign ([0-9a-f-]{36}) with 2 recipients, scheduled for \S+\n$/.exec(result.stdout) ?? [];
    assert.ok(id, result.stdout);
    const campaign = await database.db.selectFrom('notification_campaigns').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
    assert.deepEqual([campaign.name, campaign.channel, campaign.status, campaign.subject, campaign.body, campaign.rate_per_second], ['Spring sale', 'email', 'scheduled', 'Hi {{name}}', '<p>{{name}}</p>', 25]);
    assert.ok(campaign.scheduled_at! <= new Date());
    const recipients = await database.db.selectFrom('campaign_recipients').select(['recipient_id', 'address', 'variables', 'status']).where('campaign_id', '=', id!).orderBy('recipient_id').execute();
    assert.deepEqual(recipients, [
      { recipient_id: 'u1', address: 'ann@example.test', variables: { name: 'Ann' }, status: 'pending' },
      { recipient_id: 'u2', address: 'bob@example.test', variables: { name: 'Bob' }, status: 'pending' },
    ]);
  });

  it('creates a draft from JSON, schedules it, and shows its progress without Temporal', async () => {
    const json = file('hooks.json', JSON.stringify([{ recipientId: 'h1', address: 'https://hooks.example.test/1', variables: { name: 'One' } }]));
    const body = file('body.txt', 'Hello {{name}}');
    const created = await runCampaignsCli(['create', '--name', 'Hooks', '--channel', 'webhook', '--body-file', body, '--recipients', json, '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { campaignId, status, recipients } = JSON.parse(created.stdout);
    assert.deepEqual([status, recipients], ['draft', 1]);

    const scheduled = await runCampaignsCli(['schedule', campaignId, '--at', '2031-05-01T08:00:00Z'], env);
    assert.equal(scheduled.code, 0, scheduled.stderr);
    assert.match(scheduled.stdout, new RegExp(`Campaign ${campaignId} is scheduled for 2031-05-01T08:00:00.000Z`));

    const progress = await runCampaignsCli(['progress', campaignId], env);
    assert.equal(progress.code, 0, progress.stderr);
    assert.match(progress.stdout, /^campaign\s+\S+ "Hooks" \(webhook\)$/m);
    assert.match(progress.stdout, /^status\s+scheduled$/m);
    assert.match(progress.stdout, /^total\s+1$/m);
    assert.match(progress.stdout, /^pending\s+1$/m);
    assert.match(progress.stdout, /^rate\s+unlimited$/m);
    assert.match(progress.stdout, /^scheduled at\s+2031-05-01T08:00:00.000Z$/m);

    const again = await runCampaignsCli(['schedule', campaignId], env);
    assert.equal(again.code, 0);
    await database.db.updateTable('notification_campaigns').set({ status: 'completed' }).where('id', '=', campaignId).execute();
    const refused = await runCampaignsCli(['schedule', campaignId], env);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), `error: Campaign ${campaignId} is completed: only a draft or scheduled campaign can be scheduled`);
  });

  it('refuses a recipient file with problems, listing them, and creates nothing', async () => {
    const before = await campaignCount();
    const csv = file('bad.csv', 'recipient_id,address,name\nu1,ann@example.test,Ann\nu2,https://not-mail.example.test,Bob\nu3,cy@example.test\n');
    const result = await runCampaignsCli(['create', '--name', 'Bad', '--channel', 'email', '--body', 'Hi {{name}}', '--recipients', csv], env);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.trim(),
      `error: ${csv} has 2 problem(s); nothing was created:\n  line 3: recipient "u2": "https://not-mail.example.test" is not an email address\n  line 4: recipient "u3": Template variable "name" is missing`,
    );
    assert.equal(await campaignCount(), before);
  });

  it('prints what is wrong with bad arguments', async () => {
    const csv = file('ok.csv', 'recipient_id,address\nu1,ann@example.test\n');
    const cases: Array<[string[], RegExp]> = [
      [['create', '--channel', 'email', '--body', 'x', '--recipients', csv], /error: required option '--name <name>' not specified/],
      [['create', '--name', 'x', '--channel', 'sms', '--body', 'x', '--recipients', csv], /error: option '--channel <channel>' argument 'sms' is invalid. Allowed choices are email, webhook, log./],
      [['create', '--name', 'x', '--channel', 'email', '--recipients', csv], /error: give the message body with --body <template> or --body-file <file>/],
      [['create', '--name', 'x', '--channel', 'email', '--body', 'x', '--body-file', csv, '--recipients', csv], /error: give --body or --body-file, not both/],
      [['create', '--name', 'x', '--channel', 'email', '--body', '{{#if x}}', '--recipients', csv], /error: Malformed template: Parse error on line 1/],
      [['create', '--name', 'x', '--channel', 'email', '--body', 'x', '--recipients', csv, '--rate', '0'], /error: option '--rate <recipients-per-second>' argument '0' is invalid. must be a number greater than 0/],
      [['create', '--name', 'x', '--channel', 'email', '--body', 'x', '--recipients', path.join(dir, 'nope.csv')], /error: Cannot read .*nope\.csv: ENOENT/],
      [['create', '--name', 'x', '--channel', 'email', '--body', 'x', '--recipients', csv, '--schedule-at', 'soon'], /must be an ISO 8601 time such as 2030-01-31T09:00:00Z, got "soon"/],
      [['progress', 'campaign-42'], /error: command-argument value 'campaign-42' is invalid for argument 'campaign-id'. a campaign id is a UUID, got "campaign-42"/],
      [['progress', '7a5e3c1b-0000-4000-8000-000000000001'], /^error: Campaign 7a5e3c1b-0000-4000-8000-000000000001 does not exist$/],
      [['dead-letters', 'list', '7a5e3c1b-0000-4000-8000-000000000001', '--limit', '-1'], /error: option '--limit <count>' argument '-1' is invalid. must be a positive whole number/],
      [['dead-letters', 'redrive'], /error: missing required argument 'campaign-id'/],
      [['launch'], /error: unknown command 'launch'/],
    ];
    // A few at a time: each is a fresh process.
    for (let start = 0; start < cases.length; start += 4) {
      const group = cases.slice(start, start + 4);
      const results = await Promise.all(group.map(([args]) => runCampaignsCli(args, env)));
      group.forEach(([args, expected], index) => {
        assert.notEqual(results[index]!.code, 0, `${args.join(' ')} succeeded`);
        assert.match(results[index]!.stderr.trim(), expected, `campaigns ${args.join(' ')}`);
      });
    }
  });

  it('stops with one clear line when the configuration is bad', async () => {
    const result = await runCampaignsCli(['progress', '7a5e3c1b-0000-4000-8000-000000000001'], { ...env, DATABASE_URL: 'mysql://x' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim(), 'error: Invalid configuration: DATABASE_URL must be a URL starting with postgres:// or postgresql://');
  });
});
