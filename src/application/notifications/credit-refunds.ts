import {
  creditAccountDecider,
  deliveryDecider,
  type DeliveryEvent,
  type DeliveryState,
} from '../../domain/notification/index.js';
import {
  handleCommand,
  loadAggregate,
  toDomainEvent,
  type CommandContext,
  type CommandHandlerDeps,
} from '../command-handler.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import { creditsStreamName } from './notification-streams.js';

/**
 * The charge key of a delivery's round: the planner charges round 1 under the notification id, a staff re-send
 * charges each further round under `<id>#<round>` (credits are idempotent per key).
 */
export function chargeKeyOf(notificationId: string, round: number): string {
  return round <= 1 ? notificationId : `${notificationId}#${round}`;
}

const REFUNDED_ON: readonly DeliveryEvent['type'][] = [
  'NotificationFailed',
  'NotificationDeadLettered',
  'NotificationSkipped',
];

export interface CreditRefundsDeps extends CommandHandlerDeps {
  readonly logger: Logger;
}

function roundAt(events: readonly RecordedEvent[], revision: bigint): number {
  let state: DeliveryState = deliveryDecider.initialState();
  for (const recorded of events) {
    if (recorded.revision >= revision) break; // the state the ending event ended: its round
    state = deliveryDecider.evolve(state, toDomainEvent<DeliveryEvent>(recorded));
  }
  return state.status === 'none' || state.status === 'skipped' ? 1 : state.round;
}

/**
 * Process manager: a charged send that ends without reaching the recipient (failed, dead-lettered, or skipped after
 * it was requested) gives its credits back. Idempotent twice over: it refunds only an open charge, and the credit
 * decider answers a repeated refund with nothing.
 */
export function createCreditRefunds(deps: CreditRefundsDeps): EventConsumer {
  return {
    name: 'process:credit-refunds',
    eventTypes: new Set<string>(REFUNDED_ON),
    concurrency: 4,
    async handle(event) {
      const tenantId = event.metadata.tenantId;
      const data = event.data as {
        notificationId: string;
        at?: string;
        skippedAt?: string;
        error?: string;
        reason?: string;
      };
      const { events } = await deps.eventStore.readStream(event.streamName);
      const key = chargeKeyOf(data.notificationId, roundAt(events, event.revision));
      const stream = creditsStreamName(tenantId);
      const { state } = await loadAggregate(deps.eventStore, stream, creditAccountDecider);
      if (state.status !== 'open' || !Object.hasOwn(state.charges, key) || state.charges[key]!.refunded) return;
      const context: CommandContext = {
        tenantId,
        actor: 'system:credit-refunds',
        causationId: event.id,
        correlationId: typeof event.metadata.correlationId === 'string' ? event.metadata.correlationId : event.id,
      };
      const why =
        event.type === 'NotificationSkipped' ? `skipped: ${data.reason ?? ''}` : `${event.type}: ${data.error ?? ''}`;
      await handleCommand(
        deps,
        stream,
        creditAccountDecider,
        {
          type: 'RefundCredits',
          data: { deliveryId: key, at: data.at ?? data.skippedAt ?? event.recordedAt, reason: why.slice(0, 200) },
        },
        context,
      );
      deps.logger.info({ tenantId, notificationId: data.notificationId, chargeKey: key }, 'credits refunded');
    },
  };
}
