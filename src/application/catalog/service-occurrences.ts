import { serviceDecider, serviceStreamName, type OccurrenceTexts } from '../../domain/catalog/service.decider.js';
import { requireInstant } from '../../domain/catalog/validation.js';
import {
  type ExpectedRevision,
  handleCommand,
  type CommandContext,
  type CommandHandlerDeps,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import { getService } from './catalog-queries.js';

export interface OccurrenceView extends OccurrenceTexts {
  readonly serviceId: string;
  readonly start: string;
  /** The service stream's revision (the ETag). */
  readonly revision: bigint;
}

/** The texts of one occurrence (a slot: the service at one start); none set reads as empty. 404 for no service. */
export async function getOccurrenceTexts(
  eventStore: EventStore,
  tenantId: string,
  serviceId: string,
  start: string,
): Promise<OccurrenceView> {
  const { state, revision } = await getService(eventStore, tenantId, serviceId);
  const key = requireInstant('start', start);
  return { serviceId, start: key, ...(state.occurrences?.[key] ?? {}), revision };
}

/**
 * Sets the texts of one occurrence (`ServiceOccurrenceTextsChanged` on the service's stream): shown, after the
 * service's own, in the confirmation and payment messages of reservations in that slot. Both empty removes them.
 */
export async function setOccurrenceTexts(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  serviceId: string,
  start: string,
  texts: OccurrenceTexts,
  expectedRevision?: ExpectedRevision,
): Promise<OccurrenceView> {
  await getService(deps.eventStore, context.tenantId, serviceId);
  await handleCommand(
    deps,
    serviceStreamName(context.tenantId, serviceId),
    serviceDecider,
    {
      type: 'SetOccurrenceTexts',
      data: {
        serviceId,
        start,
        ...(texts.description !== undefined ? { description: texts.description } : {}),
        ...(texts.afterPaymentText !== undefined ? { afterPaymentText: texts.afterPaymentText } : {}),
        now: deps.clock.now().toISOString(),
        actor: context.actor,
      },
    },
    context,
    expectedRevision !== undefined ? { expectedRevision } : {},
  );
  return getOccurrenceTexts(deps.eventStore, context.tenantId, serviceId, start);
}
