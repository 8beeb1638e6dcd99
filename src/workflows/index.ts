// Every workflow of the service: the entry point of the worker's workflow bundle.
export { retentionWorkflow } from './retention';
export { eventNotificationWorkflow } from './event-notification';
export { campaignWorkflow } from './campaign';
export { campaignDispatcherWorkflow } from './dispatcher';
