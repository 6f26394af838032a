import { CHANNEL_LABELS } from '../../domain/notification/index.js';
import { reservationDecider, reservationStreamName } from '../../domain/booking/reservation.decider.js';
import {
  decideRecipients,
  deliveryDecider,
  deliveryIdentityKey,
  maskAddress,
  renderMessage,
  type DeliveryContent,
  type NotificationSettings,
  type NotificationSkipped,
} from '../../domain/notification/index.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import { loadNotificationSettings } from './notification-settings.js';
import { deliveryStreamName } from './notification-streams.js';

export interface OutOfCreditsAlertsDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
}

const ACTOR = 'system:out-of-credits-alerts';
/** Skips the planner records, as the audit trail shows them (see plan-notifications RECORDED_SKIPS). */
const RECORDED = new Set(['missing-contact', 'invalid-contact']);

/** `2030-12-01T17` : the UTC hour an instant falls in. */
function hourBucket(instant: string): string {
  return new Date(Date.parse(instant)).toISOString().slice(0, 13);
}

/**
 * Process manager: a delivery skipped for want of credits makes the tenant's admins get a `staff-alert` email, at
 * most once per tenant per hour. The alert's notification ids derive from (tenant, hour, recipient), so every further
 * skip in that hour, and any redelivery, lands on the alert already requested and changes nothing. Alerts are never
 * charged: they would be skipped for the very reason they report.
 */
export function createOutOfCreditsAlerts(deps: OutOfCreditsAlertsDeps): EventConsumer {
  const content = async (
    tenantId: string,
    skipped: NotificationSkipped['data'],
    settings: NotificationSettings,
    locale: string,
  ): Promise<DeliveryContent> => {
    const what = `${skipped.kind} (${CHANNEL_LABELS[skipped.channel]})`;
    const message =
      `Out of credits: ${what} was not sent${skipped.detail ? ` (${skipped.detail})` : ''}. ` +
      'Messages that cost credits are skipped until credits are topped up.';
    const reservation = skipped.reservationId
      ? (
          await loadAggregate(
            deps.eventStore,
            reservationStreamName(tenantId, skipped.reservationId),
            reservationDecider,
          )
        ).state
      : undefined;
    if (reservation && reservation.status !== 'none') {
      const r = reservation.reservation;
      const email = renderMessage(
        'staff-alert',
        'email',
        {
          reservationId: r.reservationId,
          customerName: r.customer.name,
          serviceName: r.serviceName,
          locationName: r.location.name,
          locationAddress: r.location.address,
          start: r.start,
          end: r.end,
          timeZone: r.location.timeZone,
          locale,
          senderName: settings.sender.name,
          alert: { message },
        },
        'staff',
      );
      return { from: settings.sender, subject: email.subject, text: email.text, html: email.html };
    }
    return {
      from: settings.sender,
      subject: 'Staff alert: out of credits',
      text: `${message}\n\n${settings.sender.name}\n`,
    };
  };

  return {
    name: 'process:out-of-credits-alerts',
    eventTypes: new Set(['NotificationSkipped']),
    async handle(event) {
      const skipped = event.data as unknown as NotificationSkipped['data'];
      if (skipped.reason !== 'insufficient-credits' || skipped.kind === 'staff-alert') return;
      const tenantId = event.metadata.tenantId;
      const settings = await loadNotificationSettings(deps.eventStore, tenantId);
      const causeId = deps.ids.derive('out-of-credits-alert', tenantId, hourBucket(skipped.skippedAt));
      const context: CommandContext = {
        tenantId,
        actor: ACTOR,
        causationId: event.id,
        correlationId: typeof event.metadata.correlationId === 'string' ? event.metadata.correlationId : event.id,
      };
      const decision = decideRecipients({
        kind: 'staff-alert',
        channel: 'email',
        settings,
        admins: settings.admins ?? [],
      });
      const idOf = (address: string) =>
        deps.ids.derive(
          'delivery',
          deliveryIdentityKey({
            causationEventId: causeId,
            kind: 'staff-alert',
            channel: 'email',
            recipientAddress: address,
          }),
        );
      const now = deps.clock.now().toISOString();
      for (const recipient of decision.recipients) {
        const notificationId = idOf(recipient.address);
        const stream = deliveryStreamName(tenantId, notificationId);
        // Already requested this hour: nothing to render or write.
        if ((await deps.eventStore.readStream(stream)).revision !== 'no_stream') continue;
        await handleCommand(
          deps,
          stream,
          deliveryDecider,
          {
            type: 'RequestNotification',
            data: {
              notificationId,
              tenantId,
              ...(skipped.reservationId ? { reservationId: skipped.reservationId } : {}),
              kind: 'staff-alert',
              channel: 'email',
              recipient: { type: recipient.type, address: recipient.address },
              content: await content(tenantId, skipped, settings, recipient.locale ?? settings.defaultLocale),
              causationEventId: causeId,
              causedAt: skipped.skippedAt,
              requestedAt: now,
            },
          },
          context,
        );
        deps.logger.warn({ tenantId, notificationId }, 'out of credits: staff alert requested');
      }
      for (const missing of decision.skipped.filter((s) => RECORDED.has(s.reason))) {
        const notificationId = idOf(missing.address ?? `(none:${missing.type}:${missing.contactId ?? ''})`);
        await handleCommand(
          deps,
          deliveryStreamName(tenantId, notificationId),
          deliveryDecider,
          {
            type: 'SkipNotification',
            data: {
              reason: missing.reason,
              skippedAt: now,
              identity: {
                notificationId,
                tenantId,
                kind: 'staff-alert',
                channel: 'email',
                recipientType: missing.type,
                ...(missing.address ? { maskedRecipient: maskAddress('email', missing.address) } : {}),
                causationEventId: causeId,
              },
            },
          },
          context,
        );
      }
    },
  };
}
