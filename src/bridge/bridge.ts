// The bridge's lifecycle: connect, declare, consume; reconnect with backoff; pause while Temporal is away; drain on stop.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { connectClient } from '../temporal/connection';
import { connectAmqp } from './connection';
import { createMessageHandler, type MessageOutcome } from './consumer';
import { assertTopology, TopologyMismatchError, TOPOLOGY } from './topology';

export interface BridgeStats {
  started: number;
  duplicates: number;
  retried: number;
  deadLettered: number;
  /** Broker connections lost while running. */
  connectionLosses: number;
  /** Broker connections restored after a loss. */
  reconnects: number;
  /** Times consuming paused because Temporal could not be reached. */
  pauses: number;
}

export interface BridgeOptions {
  config: Config;
  logger: Logger;
  /** A Temporal client to use instead of one from connectClient(config); the bridge then leaves it open on stop. */
  client?: Client;
  /** Called for every settled message, for metrics. */
  onOutcome?: (outcome: MessageOutcome, routingKey: string) => void;
  /** Called when a lost broker connection has been restored, for metrics. */
  onReconnect?: () => void;
}

export interface EventBridge {
  readonly stats: Readonly<BridgeStats>;
  /** Connects and starts consuming. Rejects with TopologyMismatchError when the queues exist with other arguments. */
  start(): Promise<void>;
  /** Stops consuming, waits for messages in flight (up to BRIDGE_SHUTDOWN_TIMEOUT_MS), then closes everything. */
  stop(): Promise<void>;
}

interface Session {
  connection: ChannelModel;
  channel: ConfirmChannel;
  consumerTag?: string;
  closed: boolean;
}

/** Exponential backoff with jitter: 250 ms, 500 ms, 1 s ... up to `capMs`. */
function backoffDelay(attempt: number, capMs = 30_000): number {
  const base = Math.min(capMs, 250 * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

class StoppedError extends Error {
  override name = 'StoppedError';
}

export function createEventBridge({ config, logger, client: givenClient, onOutcome, onReconnect }: BridgeOptions): EventBridge {
  const log = logger.child({ component: 'bridge' });
  const stats: BridgeStats = { started: 0, duplicates: 0, retried: 0, deadLettered: 0, connectionLosses: 0, reconnects: 0, pauses: 0 };
  const inFlight = new Set<Promise<void>>();
  const stopSignal = new AbortController();
  let client: Client | undefined = givenClient;
  let session: Session | undefined;
  let stopping = false;
  let paused = false;
  let reconnecting = false;
  let stopped: Promise<void> | undefined;

  const handleMessage = createMessageHandler({
    config,
    logger: log,
    client: () => client!,
    onTemporalUnreachable: () => pauseWhileTemporalIsAway(),
  });

  const wait = (ms: number) => sleep(ms, undefined, { signal: stopSignal.signal }).catch(() => undefined);

  async function openSession(): Promise<Session> {
    const connection = await connectAmqp(config, { connectionName: 'notification-jobs bridge' });
    connection.on('error', (error: Error) => log.warn({ err: error }, 'AMQP connection error'));
    connection.on('handler-error', (error: Error, event: string) => log.error({ err: error, event }, 'AMQP connection listener failed'));
    connection.on('blocked', (reason: string) => log.warn({ reason }, 'broker blocked publishing (resource alarm)'));
    connection.on('unblocked', () => log.info('broker unblocked publishing'));
    try {
      const setup = await connection.createChannel();
      setup.on('error', (error: Error) => log.debug({ err: error }, 'topology channel closed by the broker'));
      await assertTopology(setup, config.bridge);
      await setup.close();

      const channel = await connection.createConfirmChannel();
      const current: Session = { connection, channel, closed: false };
      channel.on('error', (error: Error) => log.warn({ err: error }, 'AMQP channel error'));
      channel.on('handler-error', (error: Error, event: string) => log.error({ err: error, event }, 'AMQP channel listener failed'));
      // A channel the broker closed (the connection still up) would leave the bridge idle: start over.
      channel.on('close', () => void connection.close().catch(() => undefined));
      connection.on('close', (error?: Error) => sessionLost(current, error));
      await channel.prefetch(config.bridge.prefetch);
      return current;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  function sessionLost(lost: Session, error?: Error) {
    lost.closed = true;
    if (session !== lost) return;
    session = undefined;
    if (stopping) return;
    stats.connectionLosses += 1;
    log.warn({ err: error }, 'AMQP connection lost; unacknowledged messages return to the queue; reconnecting');
    void reconnect();
  }

  async function reconnect() {
    if (reconnecting) return;
    reconnecting = true;
    try {
      for (let attempt = 0; !stopping; attempt++) {
        const delay = backoffDelay(attempt);
        await wait(delay);
        if (stopping) return;
        let opened: Session | undefined;
        try {
          opened = await openSession();
          if (stopping) {
            await opened.connection.close().catch(() => undefined);
            return;
          }
          session = opened;
          await consume();
          stats.reconnects += 1;
          log.info('AMQP connection restored; topology declared, consuming again');
          onReconnect?.();
          return;
        } catch (error) {
          if (opened) {
            if (session === opened) session = undefined;
            await opened.connection.close().catch(() => undefined);
          }
          const level = error instanceof TopologyMismatchError ? 'error' : 'warn';
          log[level]({ err: error, attempt: attempt + 1 }, 'AMQP reconnect failed; trying again');
        }
      }
    } finally {
      reconnecting = false;
      // Lost again before this loop let go: nobody else will notice.
      if (!stopping && (!session || session.closed)) void reconnect();
    }
  }

  async function consume() {
    const current = session;
    if (!current || current.closed || current.consumerTag || paused || stopping) return;
    const { consumerTag } = await current.channel.consume(TOPOLOGY.workQueue, (message) => onDelivery(current, message), { noAck: false });
    current.consumerTag = consumerTag;
    // Paused or stopping while the consume request was on its way.
    if (paused || stopping) await cancelConsumer(current);
  }

  async function cancelConsumer(current: Session | undefined) {
    const tag = current?.consumerTag;
    if (!current || !tag || current.closed) return;
    current.consumerTag = undefined;
    await current.channel.cancel(tag).catch((error: unknown) => log.debug({ err: error }, 'consumer cancel failed; the connection is going anyway'));
  }

  function onDelivery(current: Session, message: ConsumeMessage | null) {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): reconnecting declares the queue again.
      log.warn({ queue: TOPOLOGY.workQueue }, 'consumer cancelled by the broker; reconnecting');
      void current.connection.close().catch(() => undefined);
      return;
    }
    const task = handleMessage(current.channel, message)
      .then((outcome) => {
        if (outcome === 'started') stats.started += 1;
        else if (outcome === 'duplicate') stats.duplicates += 1;
        else if (outcome === 'retried') stats.retried += 1;
        else stats.deadLettered += 1;
        try {
          onOutcome?.(outcome, message.fields.routingKey);
        } catch (error) {
          log.error({ err: error }, 'outcome listener failed');
        }
      })
      .catch((error: unknown) => {
        // Nothing was acked: the broker redelivers the message on the next connection.
        log.warn({ err: error, messageId: message.properties.messageId }, 'message left unacknowledged; it will be redelivered');
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }

  async function temporalAnswers(): Promise<boolean> {
    try {
      await client!.connection.withDeadline(Date.now() + 3_000, () => client!.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }

  function pauseWhileTemporalIsAway() {
    if (paused || stopping) return;
    paused = true;
    stats.pauses += 1;
    log.warn('Temporal unreachable: consuming paused; messages wait in the queue until it answers');
    void cancelConsumer(session);
    void (async () => {
      for (let attempt = 0; paused && !stopping; attempt++) {
        await wait(Math.min(config.bridge.retryDelayMs, backoffDelay(attempt)));
        if (stopping) return;
        if (await temporalAnswers()) {
          paused = false;
          log.info('Temporal answers again: consuming resumed');
          await consume().catch((error: unknown) => log.warn({ err: error }, 'could not resume consuming; the reconnect will'));
        }
      }
    })();
  }

  async function connectTemporal(): Promise<Client> {
    for (let attempt = 0; ; attempt++) {
      if (stopping) throw new StoppedError('bridge stopped while connecting to Temporal');
      try {
        return await connectClient(config);
      } catch (error) {
        log.warn({ err: error, temporalAddress: config.temporal.address, attempt: attempt + 1 }, 'Temporal not reachable yet; retrying');
        await wait(backoffDelay(attempt, 10_000));
      }
    }
  }

  async function openFirstSession(): Promise<Session> {
    for (let attempt = 0; ; attempt++) {
      if (stopping) throw new StoppedError('bridge stopped while connecting to RabbitMQ');
      try {
        return await openSession();
      } catch (error) {
        // A topology conflict needs an operator, not a retry.
        if (error instanceof TopologyMismatchError) throw error;
        log.warn({ err: error, attempt: attempt + 1 }, 'RabbitMQ not reachable yet; retrying');
        await wait(backoffDelay(attempt, 10_000));
      }
    }
  }

  return {
    stats,

    async start() {
      try {
        const first = await openFirstSession();
        if (stopping) {
          await first.connection.close().catch(() => undefined);
          return;
        }
        session = first;
        client ??= await connectTemporal();
        await consume();
        if (stopping) return;
      } catch (error) {
        if (error instanceof StoppedError) return;
        await session?.connection.close().catch(() => undefined);
        throw error;
      }
      log.info(
        { queue: TOPOLOGY.workQueue, prefetch: config.bridge.prefetch, maxAttempts: config.bridge.maxAttempts, retryDelayMs: config.bridge.retryDelayMs },
        'bridge started',
      );
    },

    stop() {
      stopped ??= (async () => {
        stopping = true;
        stopSignal.abort();
        log.info({ inFlight: inFlight.size }, 'bridge stopping: no new messages; finishing those in flight');
        const current = session;
        await cancelConsumer(current);
        const deadline = new AbortController();
        const drained = Promise.allSettled([...inFlight]).then(() => true);
        const timedOut = sleep(config.bridge.shutdownTimeoutMs, false, { signal: deadline.signal }).catch(() => false);
        const finishedInTime = await Promise.race([drained, timedOut]);
        deadline.abort();
        if (!finishedInTime) {
          log.warn({ unfinished: inFlight.size }, 'shutdown deadline reached; unfinished messages return to the queue unacknowledged');
        }
        session = undefined;
        if (current && !current.closed) {
          current.closed = true;
          await current.channel.close().catch(() => undefined);
          await current.connection.close().catch(() => undefined);
        }
        if (!givenClient) await client?.connection.close().catch(() => undefined);
        log.info(stats, 'bridge stopped');
      })();
      return stopped;
    },
  };
}
