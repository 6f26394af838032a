import {
  CHANNELS,
  decideRecipients,
  deliveryIdentityKey,
  lowCreditsAlert,
  maskAddress,
  type CreditsBalanceLow,
  type DeliveryContent,
} from '../../domain/notification/index.js';
import { neutraliseText } from '../../domain/shared/text.js';
import { toDomainEvent, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { Intent, ProcessManager } from '../process-managers/process-manager.js';
import { loadNotificationSettings } from './notification-settings.js';
import { DELIVERY_TARGET } from './notification-planner.js';
import type { PlannedDelivery } from './plan-notifications.js';

export interface LowCreditAlertsDeps extends CommandHandlerDeps {
  readonly clock: Clock;
}

/** Skips recorded in the audit trail (the others mean the tenant switched the channel off: nothing was expected). */
const RECORDED = new Set(['missing-contact', 'invalid-contact']);

/**
 * Process manager (the one shape): the credits stream's `CreditsBalanceLow` — once per crossing of the tenant's
 * threshold — becomes a staff alert to the admins on the channels the tenant's `staff-alert` settings switch on.
 * Delivery ids derive from the event, so a redelivered event requests nothing new. Alerts are free: they tell of
 * credits running out, and must not be skipped for want of them.
 */
export function createLowCreditAlerts(deps: LowCreditAlertsDeps): ProcessManager {
  return {
    name: 'low-credit-alerts',
    eventTypes: ['CreditsBalanceLow'],
    async react(event) {
      const low = toDomainEvent<CreditsBalanceLow>(event);
      const tenantId = event.metadata.tenantId;
      const settings = await loadNotificationSettings(deps.eventStore, tenantId);
      const sender = { ...settings.sender, name: neutraliseText(settings.sender.name, 'line') };
      const now = deps.clock.now().toISOString();
      const intents: Intent[] = [];
      const plan = (delivery: PlannedDelivery) =>
        intents.push({
          kind: 'command',
          target: DELIVERY_TARGET,
          tenantId,
          aggregateId: delivery.identity.notificationId,
          command: { type: 'PlanDelivery', data: delivery },
          idempotencyKey: delivery.identity.notificationId,
        });
      for (const channel of CHANNELS) {
        const decision = decideRecipients({ kind: 'staff-alert', channel, settings, admins: settings.admins ?? [] });
        const identity = (type: 'admin' | 'staff' | 'customer' | 'custom', address: string | undefined) => ({
          notificationId: deps.ids.derive(
            'delivery',
            deliveryIdentityKey({
              causationEventId: event.id,
              kind: 'staff-alert',
              channel,
              recipientAddress: address ?? `(none:${type})`,
            }),
          ),
          tenantId,
          kind: 'staff-alert' as const,
          channel,
          recipientType: type,
          ...(address ? { maskedRecipient: maskAddress(channel, address) } : {}),
          causationEventId: event.id,
        });
        for (const skipped of decision.skipped) {
          if (!RECORDED.has(skipped.reason)) continue;
          plan({ type: 'skip', identity: identity(skipped.type, skipped.address), reason: skipped.reason });
        }
        for (const recipient of decision.recipients) {
          const alert = lowCreditsAlert(
            recipient.locale ?? settings.defaultLocale,
            low.data.balance,
            low.data.threshold,
          );
          const content: DeliveryContent =
            channel === 'email'
              ? { from: sender, subject: alert.subject, text: `${alert.text}\n\n${sender.name}\n` }
              : { text: `${sender.name}: ${alert.text}` };
          const id = identity(recipient.type, recipient.address);
          plan({
            type: 'request',
            identity: id,
            request: {
              notificationId: id.notificationId,
              tenantId,
              kind: 'staff-alert',
              channel,
              recipient: { type: recipient.type, address: recipient.address },
              content,
              causationEventId: event.id,
              causedAt: event.recordedAt,
              requestedAt: now,
            },
          });
        }
      }
      return intents;
    },
  };
}
