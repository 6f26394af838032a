import { compoundStreamName } from '../../domain/catalog/stream-name.js';

/** One stream per delivery: (causing event, kind, channel, recipient) -> a derived id, so a replay lands on it. */
export const deliveryStreamName = (tenantId: string, notificationId: string) =>
  compoundStreamName('notification', tenantId, notificationId);
export const notificationSettingsStreamName = (tenantId: string) =>
  compoundStreamName('settings', tenantId, 'notifications');
export const creditsStreamName = (tenantId: string) => compoundStreamName('credits', tenantId, 'account');
export const customerPreferencesStreamName = (tenantId: string, customerRef: string) =>
  compoundStreamName('customer', tenantId, customerRef);
/** The tenant's saved workflows (its own, and its edits of the ready-made ones). */
export const workflowsStreamName = (tenantId: string) => compoundStreamName('settings', tenantId, 'workflows');
