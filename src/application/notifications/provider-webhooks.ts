import {
  commandForInboundSms,
  customerPreferencesDecider,
  deliveryDecider,
  normalizeAddress,
  parseSmsKeyword,
  type ProviderStatus,
  type SmsKeywordAction,
} from '../../domain/notification/index.js';
import { compoundStreamName } from '../../domain/catalog/stream-name.js';
import { ConcurrencyError } from '../../domain/shared/errors.js';
import { buildMetadata, handleCommand, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import { deliveriesProjection, type DeliveryDocument } from '../projections/deliveries.projection.js';
import { physicalCollection } from '../projections/projection.js';
import {
  reservationDetailsProjection,
  type ReservationDocument,
} from '../projections/reservation-details.projection.js';
import { customerRefOf } from './notification-settings.js';
import { customerPreferencesStreamName, deliveryStreamName } from './notification-streams.js';

/**
 * What provider webhooks mean for the notification engine, once the edge has verified they come from the provider:
 * status callbacks move a delivery forward, inbound keywords opt customers out of SMS and back in.
 */

export interface ProviderWebhookDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly readModels: ReadModelStore;
}

/** Twilio MessageStatus values that are facts about a delivery; the rest (queued, accepting, sending...) are steps. */
const TWILIO_STATUSES: Readonly<Record<string, ProviderStatus>> = {
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
};

export type StatusCallbackOutcome =
  | { readonly outcome: 'ignored'; readonly status: string }
  | { readonly outcome: 'unknown-message' }
  | {
      readonly outcome: 'recorded';
      readonly tenantId: string;
      readonly notificationId: string;
      readonly newEvents: number;
    };

export interface TwilioStatusCallback {
  readonly messageSid: string;
  readonly messageStatus: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /**
   * When the callback URL names the delivery (`?tenant=&notification=`), it is found from its stream at once;
   * otherwise by its provider message id in the deliveries read model, which may lag behind the acceptance.
   */
  readonly tenantId?: string;
  readonly notificationId?: string;
}

async function locate(
  deps: ProviderWebhookDeps,
  callback: TwilioStatusCallback,
): Promise<{ tenantId: string; notificationId: string } | undefined> {
  if (callback.tenantId !== undefined && callback.notificationId !== undefined) {
    const { revision } = await deps.eventStore.readStream(
      deliveryStreamName(callback.tenantId, callback.notificationId),
    );
    return revision === 'no_stream'
      ? undefined
      : { tenantId: callback.tenantId, notificationId: callback.notificationId };
  }
  // A SID is unique at Twilio across accounts, so it names one delivery of one tenant.
  const [found] = await deps.readModels.find<DeliveryDocument & StoredDocument>(
    physicalCollection(deliveriesProjection),
    { providerMessageId: callback.messageSid },
    { limit: 1 },
  );
  return found ? { tenantId: found.tenantId, notificationId: found.notificationId } : undefined;
}

/**
 * Records a Twilio status callback. Idempotent by (MessageSid, status): the delivery decider moves state only
 * forward and answers a repeated or older status with nothing. A message not (yet) known is `unknown-message`, for
 * the edge to refuse so the provider tries again later rather than the fact being lost.
 */
export async function recordTwilioStatus(
  deps: ProviderWebhookDeps,
  callback: TwilioStatusCallback,
): Promise<StatusCallbackOutcome> {
  const status = TWILIO_STATUSES[callback.messageStatus];
  if (status === undefined) return { outcome: 'ignored', status: callback.messageStatus };
  const target = await locate(deps, callback);
  if (!target) return { outcome: 'unknown-message' };
  const error =
    status === 'undelivered' || status === 'failed'
      ? [callback.errorCode, callback.errorMessage].filter((part) => part !== undefined && part !== '').join(': ') ||
        undefined
      : undefined;
  const context: CommandContext = {
    tenantId: target.tenantId,
    actor: 'provider:twilio',
    causationId: callback.messageSid,
    correlationId: target.notificationId,
  };
  const result = await handleCommand(
    deps,
    deliveryStreamName(target.tenantId, target.notificationId),
    deliveryDecider,
    {
      type: 'RecordProviderStatus',
      data: {
        status,
        providerMessageId: callback.messageSid,
        at: deps.clock.now().toISOString(),
        ...(error !== undefined ? { error: `twilio ${error}`.slice(0, 500) } : {}),
      },
    },
    context,
  );
  return { outcome: 'recorded', ...target, newEvents: result.newEvents.length };
}

/**
 * `smsinbound-<tenant>+<MessageSid>`: one `InboundSmsKeywordHandled` per inbound keyword message Herald acted on.
 * Kept with the events (not in the read models), so a rebuild cannot make Herald apply a late retry twice.
 */
export const inboundSmsStreamName = (tenantId: string, messageSid: string) =>
  compoundStreamName('smsinbound', tenantId, messageSid);

export interface InboundSms {
  readonly tenantId: string;
  readonly messageSid: string;
  readonly from: string;
  readonly body: string;
}

/**
 * An inbound SMS: STOP-like keywords opt out of SMS, START-like ones opt back in, for every customer of the tenant
 * with that number (found in the reservations read model) and for the ref Herald derives from the number alone
 * (a customer known only by phone, possibly not booked yet). Anything else is conversation and changes nothing.
 * A message already handled (Twilio retries) is not applied again, so a late retry of STOP cannot undo a START.
 */
export async function recordInboundSms(
  deps: ProviderWebhookDeps,
  message: InboundSms,
): Promise<{ action: SmsKeywordAction | 'none'; customerRefs: string[] }> {
  const keyword = parseSmsKeyword(message.body);
  if (keyword === undefined || keyword.action === 'help')
    return { action: keyword?.action ?? 'none', customerRefs: [] };
  const handledStream = inboundSmsStreamName(message.tenantId, message.messageSid);
  if ((await deps.eventStore.readStream(handledStream)).revision !== 'no_stream') {
    return { action: keyword.action, customerRefs: [] };
  }

  const phone = normalizeAddress('sms', message.from);
  const reservations = await deps.readModels.find<ReservationDocument & StoredDocument>(
    physicalCollection(reservationDetailsProjection),
    { tenantId: message.tenantId, 'customer.phone': phone },
    { limit: 5000 },
  );
  const refs = new Set<string>();
  for (const doc of reservations) {
    const ref = customerRefOf(deps.ids, message.tenantId, doc.customer);
    if (ref) refs.add(ref);
  }
  refs.add(customerRefOf(deps.ids, message.tenantId, { phone })!);

  const at = deps.clock.now().toISOString();
  const context: CommandContext = {
    tenantId: message.tenantId,
    actor: 'customer:sms-keyword',
    causationId: message.messageSid,
    correlationId: message.messageSid,
  };
  for (const customerRef of refs) {
    const command = commandForInboundSms(message.body, {
      customerId: customerRef,
      tenantId: message.tenantId,
      phone,
      at,
    });
    if (command === undefined) continue;
    await handleCommand(
      deps,
      customerPreferencesStreamName(message.tenantId, customerRef),
      customerPreferencesDecider,
      command,
      context,
    );
  }
  try {
    await deps.eventStore.appendToStream(
      handledStream,
      [
        {
          id: deps.ids.derive('inbound-sms-handled', message.tenantId, message.messageSid),
          type: 'InboundSmsKeywordHandled',
          data: {
            messageSid: message.messageSid,
            keyword: keyword.keyword,
            action: keyword.action,
            customerRefs: [...refs],
            at,
          },
          metadata: buildMetadata(context),
        },
      ],
      'no_stream',
    );
  } catch (error) {
    // The same message handled at the same time by another request: its marker is there, which is all we need.
    if (!(error instanceof ConcurrencyError)) throw error;
  }
  return { action: keyword.action, customerRefs: [...refs] };
}

/** A status report of a provider whose callbacks the edge verified (SendGrid's Event Webhook, WhatsApp Cloud's). */
export interface ProviderStatusCallback {
  /** `sendgrid`, `whatsapp-cloud`: the actor of the recorded fact. */
  readonly provider: string;
  readonly providerMessageId: string;
  readonly status: ProviderStatus;
  readonly error?: string;
  /** The delivery, when the callback names it (SendGrid's custom_args); else found by the provider's message id. */
  readonly tenantId?: string;
  readonly notificationId?: string;
  /** Only this tenant's deliveries (a tenant's own provider account reports on its messages only). */
  readonly onlyTenant?: string;
}

/**
 * Records a verified provider status report exactly as a Twilio status callback is recorded (the same
 * `RecordProviderStatus` command, so the same events; a repeated or older status records nothing).
 */
export async function recordProviderStatus(
  deps: ProviderWebhookDeps,
  callback: ProviderStatusCallback,
): Promise<StatusCallbackOutcome> {
  const target = await locate(deps, {
    messageSid: callback.providerMessageId,
    messageStatus: callback.status,
    ...(callback.tenantId !== undefined && callback.notificationId !== undefined
      ? { tenantId: callback.tenantId, notificationId: callback.notificationId }
      : {}),
  });
  if (!target || (callback.onlyTenant !== undefined && target.tenantId !== callback.onlyTenant)) {
    return { outcome: 'unknown-message' };
  }
  const result = await handleCommand(
    deps,
    deliveryStreamName(target.tenantId, target.notificationId),
    deliveryDecider,
    {
      type: 'RecordProviderStatus',
      data: {
        status: callback.status,
        providerMessageId: callback.providerMessageId,
        at: deps.clock.now().toISOString(),
        ...(callback.error !== undefined ? { error: callback.error.slice(0, 500) } : {}),
      },
    },
    {
      tenantId: target.tenantId,
      actor: `provider:${callback.provider}`,
      causationId: callback.providerMessageId,
      correlationId: target.notificationId,
    },
  );
  return { outcome: 'recorded', ...target, newEvents: result.newEvents.length };
}
