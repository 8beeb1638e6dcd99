import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LedgerWriter, Pacer, sendBatchInOrder } from '../../src/campaigns/batch-sender';
import type { ChunkResult, RecipientOutcome, RecipientToSend } from '../../src/campaigns/ledger';

const recipients = (count: number): RecipientToSend[] =>
  Array.from({ length: count }, (_, index) => ({ recipientId: `r${index + 1}`, address: `r${index + 1}@example.test`, variables: {}, attempts: 0 }));

function recordingWrite(written: RecipientOutcome[][]) {
  return async (outcomes: RecipientOutcome[]): Promise<ChunkResult> => {
    written.push(outcomes);
    const sent = outcomes.filter((outcome) => outcome.outcome === 'sent').length;
    return { sent, failed: outcomes.length - sent, retrying: 0, counts: { total: 0, sent: 0, failed: 0 } };
  };
}

describe('batch sender', () => {
  it('paces send starts 1/rate apart, continuing from the previous batch, and stops reserving past the deadline', () => {
    let now = 1_000;
    const pacer = new Pacer(10, 1_250, () => now);
    assert.equal(pacer.reserve(5_000, true), 1_250);
    assert.equal(pacer.reserve(5_000, false), 1_350);
    now = 2_000;
    assert.equal(pacer.reserve(5_000, false), 2_000, 'no burst to catch up after a quiet spell');
    assert.equal(pacer.notBefore, 2_100);
    assert.equal(pacer.reserve(2_050, false), undefined);
    assert.equal(pacer.reserve(2_050, true), 2_100, 'the first send of a batch is always granted');
    const unlimited = new Pacer(null, null, () => now);
    assert.equal(unlimited.reserve(now + 1, false), now);
    assert.equal(unlimited.notBefore, null);
  });

  it('moves the cursor only over recipients whose outcome and every earlier one are written', async () => {
    const written: RecipientOutcome[][] = [];
    const rows = recipients(5);
    const writer = new LedgerWriter(rows, 'r0', recordingWrite(written), { chunkSize: 2, maxDelayMs: 10_000 });
    writer.add(1, { recipientId: 'r2', outcome: 'sent' });
    writer.add(2, { recipientId: 'r3', outcome: 'sent' });
    await writer.flush();
    assert.equal(writer.cursor, 'r0', 'r1 is not written yet');
    writer.add(0, { recipientId: 'r1', outcome: 'failed', error: 'bad' });
    await writer.flush();
    assert.equal(writer.cursor, 'r3');
    assert.equal(writer.isComplete, false);
    assert.deepEqual(written.map((chunk) => chunk.map((item) => item.recipientId)), [['r2', 'r3'], ['r1']]);
    assert.deepEqual(writer.totals, { sent: 2, failed: 1, retrying: 0 });
  });

  it('sends in key order with bounded concurrency, writes every outcome, and leaves unstarted recipients when stopped', async () => {
    const written: RecipientOutcome[][] = [];
    const rows = recipients(40);
    let inFlight = 0;
    let busiest = 0;
    const started: string[] = [];
    let stop = false;
    const writer = new LedgerWriter(rows, null, recordingWrite(written), { chunkSize: 7, maxDelayMs: 5 });
    await sendBatchInOrder({
      recipients: rows,
      concurrency: 4,
      pacer: new Pacer(null, null),
      deadline: Date.now() + 60_000,
      shouldStop: () => stop,
      deliver: async (recipient) => {
        started.push(recipient.recipientId);
        inFlight += 1;
        busiest = Math.max(busiest, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight -= 1;
        if (recipient.recipientId === 'r25') stop = true;
        return { recipientId: recipient.recipientId, outcome: 'sent' };
      },
      writer,
    });
    assert.equal(busiest, 4);
    assert.deepEqual(started, rows.slice(0, started.length).map((row) => row.recipientId), 'started in key order');
    assert.ok(started.length >= 25 && started.length < 40, `${started.length} started`);
    assert.equal(written.flat().length, started.length, 'every started send is written');
    assert.equal(writer.cursor, `r${started.length}`);
    assert.equal(writer.isComplete, false);
  });

  it('stops at the first failed ledger write and reports it', async () => {
    const rows = recipients(10);
    const writer = new LedgerWriter(rows, null, async () => Promise.reject(new Error('database gone')), { chunkSize: 2, maxDelayMs: 5 });
    let delivered = 0;
    await sendBatchInOrder({
      recipients: rows,
      concurrency: 1,
      pacer: new Pacer(null, null),
      deadline: Date.now() + 60_000,
      shouldStop: () => false,
      deliver: async (recipient) => {
        delivered += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { recipientId: recipient.recipientId, outcome: 'sent' };
      },
      writer,
    });
    assert.match(String(writer.error), /database gone/);
    assert.ok(delivered < 10, `${delivered} sends after the ledger failed`);
    assert.equal(writer.cursor, null);
  });
});
