import { describeAsOf, eventsAsOf, type AsOf } from '../as-of.js';
import { creditAccountDecider, deliveryDecider, type Channel } from '../../domain/notification/index.js';
import { IllegalStateError, NotFoundError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { FieldCondition, Filter, ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import {
  deliveriesProjection,
  deliveryDocumentId,
  type DeliveryDocument,
} from '../projections/deliveries.projection.js';
import {
  notificationAuditLogProjection,
  type AuditEntryDocument,
} from '../projections/notification-audit-log.projection.js';
import { physicalCollection } from '../projections/projection.js';
import { chargeKeyOf } from './credit-refunds.js';
import { creditsStreamName, deliveryStreamName } from './notification-streams.js';

/**
 * Staff queries over the delivery audit trail (dead letters, the sent-SMS log) and the staff re-send. Lists read the
 * deliveries read model (eventually consistent); a single delivery falls back to its stream when the read model has
 * not caught up yet, so a delivery that exists is never reported missing.
 */

const DELIVERIES = physicalCollection(deliveriesProjection);
const AUDIT = physicalCollection(notificationAuditLogProjection);

/** Where the previous page ended: the sort value and the document id of its last item. */
export interface PageKey {
  readonly at: string;
  readonly id: string;
}

export interface Page<T> {
  readonly items: T[];
  /** Present when there may be more: pass it back as `after`. */
  readonly next?: PageKey;
}

export type StoredDelivery = DeliveryDocument & { readonly _id: string };

/**
 * Newest first by `field`, then by `_id`. The store's filters are conjunctions, so "after (at, id)" is read as two
 * queries: the rest of the ties at `at`, then everything older.
 */
async function pageBy(
  readModels: ReadModelStore,
  filter: Filter,
  field: string,
  range: { readonly from?: string; readonly to?: string },
  limit: number,
  after: PageKey | undefined,
): Promise<Page<StoredDelivery>> {
  const sort = { field, direction: -1 as const };
  const items: StoredDelivery[] = [];
  if (after !== undefined) {
    const inRange =
      (range.from === undefined || after.at >= range.from) && (range.to === undefined || after.at < range.to);
    if (inRange) {
      items.push(
        ...(await readModels.find<StoredDelivery>(
          DELIVERIES,
          { ...filter, [field]: after.at, _id: { $lt: after.id } },
          { sort, limit: limit + 1 },
        )),
      );
    }
  }
  if (items.length <= limit) {
    const upper =
      after !== undefined ? (range.to !== undefined && range.to < after.at ? range.to : after.at) : range.to;
    // `$gte ''` (at least) keeps documents whose field is still null (an SMS not sent yet) out of a listing by it.
    const condition: FieldCondition = { $gte: range.from ?? '', ...(upper !== undefined ? { $lt: upper } : {}) };
    items.push(
      ...(await readModels.find<StoredDelivery>(
        DELIVERIES,
        { ...filter, [field]: condition },
        { sort, limit: limit + 1 - items.length },
      )),
    );
  }
  if (items.length <= limit) return { items };
  const page = items.slice(0, limit);
  const last = page.at(-1)!;
  return { items: page, next: { at: String(last[field]), id: last._id } };
}

export interface DeliveryQuery {
  readonly status?: string;
  readonly channel?: Channel;
  readonly kind?: string;
  readonly reservationId?: string;
  readonly customerId?: string;
  readonly campaignId?: string;
  /** ISO instants (UTC, as stored); `from` inclusive, `to` exclusive, on `requestedAt`. */
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
  readonly after?: PageKey;
}

export async function listDeliveries(
  readModels: ReadModelStore,
  tenantId: string,
  query: DeliveryQuery,
): Promise<Page<StoredDelivery>> {
  const filter: Record<string, FieldCondition> = { tenantId };
  if (query.status !== undefined) filter.status = query.status;
  if (query.channel !== undefined) filter.channel = query.channel;
  if (query.kind !== undefined) filter.kind = query.kind;
  if (query.reservationId !== undefined) filter.reservationId = query.reservationId;
  if (query.customerId !== undefined) filter.customerId = query.customerId;
  if (query.campaignId !== undefined) filter.campaignId = query.campaignId;
  return pageBy(readModels, filter, 'requestedAt', query, query.limit, query.after);
}

/** The "sent SMS" log: every SMS the provider accepted, newest first by the time it accepted it. */
export async function listSentSms(
  readModels: ReadModelStore,
  tenantId: string,
  query: { readonly from?: string; readonly to?: string; readonly limit: number; readonly after?: PageKey },
): Promise<Page<StoredDelivery>> {
  return pageBy(readModels, { tenantId, channel: 'sms' }, 'sentAt', query, query.limit, query.after);
}

export interface DeliveryWithAudit {
  readonly delivery: DeliveryDocument;
  readonly audit: AuditEntryDocument[];
}

/**
 * One delivery with its status history and its append-only audit entries. With `asOf`, as it was then: folded from
 * the notification stream's events up to that point with the projections' own (pure) evolve, never from the read
 * model.
 */
export async function getDelivery(
  readModels: ReadModelStore,
  eventStore: EventStore,
  tenantId: string,
  notificationId: string,
  asOf?: AsOf,
): Promise<DeliveryWithAudit> {
  const notFound = (detail?: string) =>
    new NotFoundError('delivery-not-found', `Delivery ${notificationId} does not exist.`, {
      notificationId,
      ...(detail ? { detail } : {}),
    });
  if (asOf === undefined) {
    const stored = await readModels.get<StoredDelivery>(DELIVERIES, deliveryDocumentId(tenantId, notificationId));
    if (stored && stored.tenantId === tenantId) {
      const audit = await readModels.find<AuditEntryDocument & StoredDocument>(
        AUDIT,
        { tenantId, notificationId },
        { sort: { field: 'position', direction: 1 }, limit: 1000 },
      );
      const {
        _id: _ignoredId,
        _position: _ignoredPosition,
        ...delivery
      } = stored as StoredDelivery & { _position?: string };
      return { delivery: delivery as DeliveryDocument, audit: audit.map(stripStoreFields) };
    }
  }
  // Not projected yet, or as of a point in its past: build the same document from the stream.
  const stream = await eventStore.readStream(deliveryStreamName(tenantId, notificationId));
  if (stream.revision === 'no_stream') throw notFound();
  const events = eventsAsOf(stream.events, asOf);
  let delivery: DeliveryDocument | null = null;
  for (const event of events) delivery = deliveriesProjection.evolve(delivery, event);
  if (!delivery)
    throw notFound(asOf ? `Delivery ${notificationId} did not exist yet at ${describeAsOf(asOf)}.` : undefined);
  const entries = events
    .map((event) => notificationAuditLogProjection.evolve(null, event))
    .filter((e): e is AuditEntryDocument => e !== null);
  return { delivery, audit: entries };
}

function stripStoreFields(doc: AuditEntryDocument & StoredDocument): AuditEntryDocument {
  const { _id: _ignoredId, _position: _ignoredPosition, ...rest } = doc;
  return rest as AuditEntryDocument;
}

export interface ResendDeps extends CommandHandlerDeps {
  readonly clock: Clock;
}

/**
 * Staff re-send of a delivery that never reached the provider (failed before acceptance, or dead-lettered). A new
 * round is a new send, so it is charged again under `<id>#<round>` (the previous round was refunded when it failed);
 * out of credits is a 409. Re-sending one already pending again is harmless.
 */
export async function resendDelivery(
  deps: ResendDeps,
  context: CommandContext,
  notificationId: string,
): Promise<{ status: string; round: number; charged: number }> {
  const stream = deliveryStreamName(context.tenantId, notificationId);
  const { state } = await loadAggregate(deps.eventStore, stream, deliveryDecider);
  if (state.status === 'none') {
    throw new NotFoundError('delivery-not-found', `Delivery ${notificationId} does not exist.`, { notificationId });
  }
  const resendable = state.status === 'dead-lettered' || (state.status === 'failed' && state.stage === 'attempt');
  if (!resendable && state.status !== 'requested' && state.status !== 'sending' && state.status !== 'skipped') {
    // Checked here as well as in the decider, whose `status` detail would collide with the problem's status member.
    throw new IllegalStateError(
      'already-sent',
      `The provider accepted this notification (now ${state.status}); request a new notification to send it again.`,
      { deliveryStatus: state.status },
    );
  }
  const cost = resendable ? (state.delivery.cost ?? 0) : 0;
  const chargeKey = resendable ? chargeKeyOf(notificationId, state.round + 1) : undefined;
  const at = deps.clock.now().toISOString();
  if (chargeKey !== undefined && cost > 0) {
    await handleCommand(
      deps,
      creditsStreamName(context.tenantId),
      creditAccountDecider,
      { type: 'ChargeCredits', data: { deliveryId: chargeKey, amount: cost, at } },
      context,
    );
  }
  try {
    const result = await handleCommand(
      deps,
      stream,
      deliveryDecider,
      { type: 'Resend', data: { by: context.actor, at } },
      context,
    );
    const after = result.state;
    const round = after.status === 'none' || after.status === 'skipped' ? 1 : after.round;
    return { status: after.status, round, charged: result.newEvents.length > 0 ? cost : 0 };
  } catch (error) {
    // Another writer moved the delivery on between our read and the Resend: give the charge back.
    if (chargeKey !== undefined && cost > 0 && error instanceof IllegalStateError) {
      await handleCommand(
        deps,
        creditsStreamName(context.tenantId),
        creditAccountDecider,
        { type: 'RefundCredits', data: { deliveryId: chargeKey, at, reason: 're-send refused' } },
        context,
      );
    }
    throw error;
  }
}
