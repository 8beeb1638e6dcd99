// The statistics as plain-text tables for a terminal.
import type { Statistics } from './stats';

type Cell = string | number;

export function formatTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((header, column) => Math.max(header.length, ...text.map((row) => row[column]?.length ?? 0)));
  // Numbers line up on the right, words on the left.
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

function seconds(value: number): string {
  if (value < 60) return `${value}s`;
  if (value < 3600) return `${Math.floor(value / 60)}m${Math.round(value % 60)}s`;
  return `${Math.floor(value / 3600)}h${Math.floor((value % 3600) / 60)}m`;
}

function section(title: string, body: string | null, error: string | undefined, empty: string): string {
  if (error) return `${title}\n  unavailable: ${error}`;
  return `${title}\n${body ?? `  ${empty}`}`;
}

export function renderStatistics(stats: Statistics): string {
  const parts: string[] = [`Statistics at ${stats.generatedAt}`];

  const taskRows = (stats.taskQueues ?? []).flatMap((queue) =>
    (
      [
        ['workflow', queue.workflowTasks],
        ['activity', queue.activityTasks],
      ] as const
    ).map(([kind, tasks]) => [queue.name, kind, tasks.backlog, seconds(tasks.backlogAgeSeconds), tasks.pollers.length, tasks.tasksAddedPerSecond, tasks.tasksDispatchedPerSecond]),
  );
  parts.push(
    section(
      'Task queues',
      taskRows.length ? formatTable(['task queue', 'tasks', 'backlog', 'oldest', 'pollers', 'added/s', 'dispatched/s'], taskRows) : null,
      stats.errors.taskQueues,
      'none',
    ),
  );

  const workflowRows = (stats.workflows ?? []).map((row) => [row.type, row.status, row.count]);
  parts.push(section('Workflows', workflowRows.length ? formatTable(['workflow type', 'status', 'count'], workflowRows) : null, stats.errors.workflows, 'no workflows yet'));

  const campaignRows = (stats.campaigns ?? []).map((campaign) => [
    campaign.id,
    campaign.name,
    campaign.status,
    `${campaign.percentDone}%`,
    campaign.sent,
    campaign.failed,
    campaign.pending,
    campaign.total,
    campaign.ratePerSecond ?? '-',
  ]);
  parts.push(
    section(
      'Running campaigns',
      campaignRows.length ? formatTable(['campaign', 'name', 'status', 'done', 'sent', 'failed', 'pending', 'total', 'rate/s'], campaignRows) : null,
      stats.errors.campaigns,
      'none running',
    ),
  );

  const deadLetterRows = (stats.deadLetters ?? []).map((row) => [row.source, row.total, row.waiting]);
  parts.push(section('Dead letters', deadLetterRows.length ? formatTable(['source', 'total', 'not re-driven'], deadLetterRows) : null, stats.errors.deadLetters, 'none'));

  const queueRows = (stats.queues ?? []).map((queue) => [queue.name, queue.role, queue.messages ?? '-', queue.consumers ?? '-', queue.error ?? '']);
  parts.push(section('RabbitMQ queues', queueRows.length ? formatTable(['queue', 'role', 'messages', 'consumers', 'note'], queueRows) : null, stats.errors.queues, 'not checked'));

  return parts.join('\n\n');
}
