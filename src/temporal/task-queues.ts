/**
 * One task queue per kind of work, so a large campaign never delays a transactional notification
 * and a long retention run never delays either.
 */
export const TASK_QUEUES = {
  /** Campaign dispatching and bulk sending. */
  campaigns: 'notification-jobs.campaigns',
  /** Notifications triggered by RabbitMQ events: latency matters. */
  transactional: 'notification-jobs.transactional',
  /** Housekeeping such as data retention. */
  maintenance: 'notification-jobs.maintenance',
} as const;

export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];
