// Sends one batch of recipients: in key order, with bounded concurrency, at a paced rate, within a time
// budget, writing outcomes to the ledger in chunks as they come. Knows nothing of Temporal, so the
// benchmark's plain loop runs exactly the same code.
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChunkResult, RecipientOutcome, RecipientToSend } from './ledger';

/** Spaces send starts 1/rate seconds apart, continuing from where the previous batch left off. */
export class Pacer {
  private next: number;

  constructor(
    private readonly ratePerSecond: number | null,
    notBefore: number | null,
    private readonly now: () => number = Date.now,
  ) {
    this.next = notBefore ?? 0;
  }

  /** The start time of the next send, or undefined when it would fall after the deadline (the first is always granted). */
  reserve(deadline: number, isFirst: boolean): number | undefined {
    const now = this.now();
    if (!this.ratePerSecond) return now > deadline && !isFirst ? undefined : now;
    const slot = Math.max(now, this.next);
    if (slot > deadline && !isFirst) return undefined;
    this.next = slot + 1000 / this.ratePerSecond;
    return slot;
  }

  /** Epoch ms before which the next send may not start; null without a rate limit. */
  get notBefore(): number | null {
    return this.ratePerSecond ? this.next : null;
  }
}

export interface WriterOptions {
  /** Outcomes per ledger write. */
  chunkSize: number;
  /** A partial chunk is written after this long, so a crash loses little. */
  maxDelayMs: number;
}

/**
 * Buffers outcomes and writes them chunk by chunk, one write at a time. Tracks the cursor: the last
 * recipient such that it and every one before it in the batch are written.
 */
export class LedgerWriter {
  private buffer: Array<{ index: number; outcome: RecipientOutcome }> = [];
  private readonly written: boolean[];
  private contiguous = -1;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  readonly totals = { sent: 0, failed: 0, retrying: 0 };
  lastCounts: ChunkResult['counts'] | undefined;
  error: unknown;

  constructor(
    private readonly recipients: RecipientToSend[],
    private readonly initialCursor: string | null,
    private readonly write: (outcomes: RecipientOutcome[]) => Promise<ChunkResult>,
    private readonly options: WriterOptions,
    private readonly onWritten: (writer: LedgerWriter) => void = () => undefined,
  ) {
    this.written = new Array<boolean>(recipients.length).fill(false);
  }

  get cursor(): string | null {
    return this.contiguous >= 0 ? this.recipients[this.contiguous]!.recipientId : this.initialCursor;
  }

  /** True once every recipient of the batch is written. */
  get isComplete(): boolean {
    return this.contiguous === this.recipients.length - 1;
  }

  add(index: number, outcome: RecipientOutcome): void {
    this.buffer.push({ index, outcome });
    if (this.buffer.length >= this.options.chunkSize) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs);
  }

  /** Queues the buffered outcomes for writing; resolves when everything queued so far is written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const chunk = this.buffer;
    this.buffer = [];
    if (chunk.length > 0) {
      this.chain = this.chain.then(async () => {
        if (this.error) return;
        try {
          const result = await this.write(chunk.map((item) => item.outcome));
          this.totals.sent += result.sent;
          this.totals.failed += result.failed;
          this.totals.retrying += result.retrying;
          this.lastCounts = result.counts;
          for (const item of chunk) this.written[item.index] = true;
          while (this.contiguous + 1 < this.written.length && this.written[this.contiguous + 1]) this.contiguous += 1;
          this.onWritten(this);
        } catch (error) {
          this.error = error;
        }
      });
    }
    return this.chain;
  }
}

export interface BatchPlan {
  recipients: RecipientToSend[];
  concurrency: number;
  pacer: Pacer;
  /** Epoch ms after which no new send starts. */
  deadline: number;
  /** Checked before every send: cancellation, a lost lease. */
  shouldStop: () => boolean;
  /** Never throws: every failure is an outcome. */
  deliver: (recipient: RecipientToSend) => Promise<RecipientOutcome>;
  writer: LedgerWriter;
  signal?: AbortSignal;
}

/** Runs the batch; resolves once every started send is written (or a write failed: see writer.error). */
export async function sendBatchInOrder(plan: BatchPlan): Promise<void> {
  const { recipients, pacer, writer } = plan;
  let nextIndex = 0;
  let outOfTime = false;
  const interrupted = () => writer.error !== undefined || plan.shouldStop();
  // Each lane waiting for its send slot listens for the abort.
  if (plan.signal) setMaxListeners(plan.concurrency + 10, plan.signal);
  const lane = async () => {
    while (nextIndex < recipients.length && !outOfTime && !interrupted()) {
      const index = nextIndex;
      const slot = pacer.reserve(plan.deadline, index === 0);
      if (slot === undefined) {
        outOfTime = true;
        return;
      }
      nextIndex += 1;
      const wait = slot - Date.now();
      if (wait > 0) await delay(wait, undefined, { signal: plan.signal }).catch(() => undefined);
      // Out of time only stops new reservations; an interrupted lane leaves its recipient pending, ahead of the cursor.
      if (interrupted()) return;
      writer.add(index, await plan.deliver(recipients[index]!));
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, recipients.length) }, lane));
  await writer.flush();
}
