import {
  calendlySourceDecider,
  type CalendlyEventTypeMapping,
  type CalendlySource,
} from '../../domain/booking/calendly-source.decider.js';
import { reservationDecider, reservationStreamName, type Customer } from '../../domain/booking/reservation.decider.js';
import { compoundStreamName } from '../../domain/catalog/stream-name.js';
import { DomainError, ValidationError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { CredentialCipher } from '../ports/credential-cipher.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import { bookReservation, cancelReservation, confirmReservation, type BookingDeps } from './booking-commands.js';

/** `sources-<tenant>+calendly`: the tenant's Calendly webhook signing key (sealed) and event type mappings. */
export const calendlySourceStreamName = (tenantId: string) => compoundStreamName('sources', tenantId, 'calendly');

/** What the AAD and the fingerprint bind the sealed signing key to. */
const keyContext = (tenantId: string) => `${tenantId}|calendly|webhook`;

export interface CalendlySourceDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly cipher: CredentialCipher;
}

/** The configuration as the API shows it: the mappings, never the key. */
export interface CalendlySourceView {
  readonly configured: boolean;
  readonly eventTypes: readonly CalendlyEventTypeMapping[];
  readonly configuredAt: string | null;
}

const SIGNING_KEY = /^[\x21-\x7E]{16,1024}$/;

export async function configureCalendlySource(
  deps: CalendlySourceDeps,
  context: CommandContext,
  input: { readonly signingKey: string; readonly eventTypes: readonly CalendlyEventTypeMapping[] },
): Promise<CalendlySourceView> {
  if (typeof input.signingKey !== 'string' || !SIGNING_KEY.test(input.signingKey)) {
    // The value is never echoed: it is a secret even when it is a wrong one.
    throw new ValidationError(
      'invalid-calendly-configuration',
      'Invalid signingKey (16 to 1024 printable characters; the value is not shown).',
      { field: 'signingKey' },
    );
  }
  const credentials = { signingKey: input.signingKey };
  const where = keyContext(context.tenantId);
  const eventTypes = input.eventTypes.map((m) => ({
    eventTypeUri: m.eventTypeUri,
    serviceId: m.serviceId,
    ...(m.resourceId !== undefined ? { resourceId: m.resourceId } : {}),
  }));
  await handleCommand(
    deps,
    calendlySourceStreamName(context.tenantId),
    calendlySourceDecider,
    {
      type: 'ConfigureCalendlySource',
      data: {
        tenantId: context.tenantId,
        sealed: deps.cipher.seal(credentials, where),
        fingerprint: deps.cipher.fingerprint(credentials, where),
        eventTypes,
        at: deps.clock.now().toISOString(),
        by: context.actor,
      },
    },
    context,
  );
  return viewCalendlySource(deps.eventStore, context.tenantId);
}

export async function removeCalendlySource(deps: CalendlySourceDeps, context: CommandContext): Promise<void> {
  await handleCommand(
    deps,
    calendlySourceStreamName(context.tenantId),
    calendlySourceDecider,
    {
      type: 'RemoveCalendlySource',
      data: { tenantId: context.tenantId, at: deps.clock.now().toISOString(), by: context.actor },
    },
    context,
  );
}

export async function loadCalendlySource(eventStore: EventStore, tenantId: string): Promise<CalendlySource | null> {
  const { state } = await loadAggregate(eventStore, calendlySourceStreamName(tenantId), calendlySourceDecider);
  return state.status === 'configured' ? state : null;
}

export async function viewCalendlySource(eventStore: EventStore, tenantId: string): Promise<CalendlySourceView> {
  const source = await loadCalendlySource(eventStore, tenantId);
  return source
    ? { configured: true, eventTypes: source.eventTypes, configuredAt: source.configuredAt }
    : { configured: false, eventTypes: [], configuredAt: null };
}

/** The signing key in clear, for one verification; null when the seal does not open (another key, damage). */
export function openSigningKey(cipher: CredentialCipher, tenantId: string, source: CalendlySource): string | null {
  try {
    return cipher.open(source.sealed, keyContext(tenantId)).signingKey ?? null;
  } catch {
    return null;
  }
}

// Webhook events -----------------------------------------------------------------------------------------------------

/** The fields of Calendly's invitee payload Herald uses (Calendly sends many more). */
export interface CalendlyInviteeEvent {
  readonly event: string;
  readonly payload: {
    /** The invitee's URI: what makes a redelivery recognisable. */
    readonly uri: string;
    readonly name: string;
    readonly email?: string;
    readonly text_reminder_number?: string | null;
    readonly scheduled_event: {
      readonly event_type: string;
      readonly start_time: string;
      readonly end_time?: string;
    };
    readonly cancellation?: { readonly canceler_type?: string | null } | null;
  };
}

export type CalendlyOutcome =
  | { readonly outcome: 'recorded'; readonly reservationId: string }
  | { readonly outcome: 'already-recorded'; readonly reservationId: string }
  | {
      readonly outcome: 'ignored';
      readonly reason: 'unsupported-event' | 'unknown-event-type' | 'unknown-invitee' | 'not-bookable';
      readonly code?: string;
    };

export interface CalendlyReceiverDeps {
  readonly booking: BookingDeps;
  readonly logger?: Logger;
}

/** A phone Herald can send to (E.164), from Calendly's free-form text reminder number; anything else is left out. */
function phoneOf(text: string | null | undefined): string | undefined {
  if (typeof text !== 'string') return undefined;
  const compact = text.replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{6,14}$/.test(compact) ? compact : undefined;
}

/**
 * invitee.created books the mapped service's slot as a reservation whose id is derived from the invitee's URI (a
 * redelivery finds it and changes nothing); Calendly has already confirmed the booking to the invitee, so a service
 * that asks for confirmation is confirmed at once. invitee.canceled cancels that reservation like any other
 * cancellation: the seat is freed and the waitlist manager offers it. Whatever Herald cannot act on is answered
 * `ignored` (Calendly disables a subscription after 24 h of non-2xx answers, and a retry would not change the
 * answer) and logged without the invitee's personal data.
 */
export async function receiveCalendlyEvent(
  deps: CalendlyReceiverDeps,
  context: CommandContext,
  source: CalendlySource,
  event: CalendlyInviteeEvent,
  /** The tenant's default language: Calendly does not say the invitee's. */
  defaultLocale: string,
): Promise<CalendlyOutcome> {
  const { tenantId } = context;
  const reservationId = deps.booking.ids.derive('calendly-invitee', tenantId, event.payload.uri);
  const streamName = reservationStreamName(tenantId, reservationId);
  const ignored = (reason: Extract<CalendlyOutcome, { outcome: 'ignored' }>['reason'], code?: string) => {
    deps.logger?.warn(
      { tenantId, calendlyEvent: event.event, reason, ...(code ? { code } : {}) },
      'calendly webhook ignored',
    );
    return { outcome: 'ignored', reason, ...(code ? { code } : {}) } as const;
  };

  if (event.event === 'invitee.created') {
    const existing = await loadAggregate(deps.booking.eventStore, streamName, reservationDecider);
    if (existing.state.status !== 'none') return { outcome: 'already-recorded', reservationId };
    const mapping = source.eventTypes.find((m) => m.eventTypeUri === event.payload.scheduled_event.event_type);
    if (!mapping) return ignored('unknown-event-type');
    const phone = phoneOf(event.payload.text_reminder_number);
    const customer: Customer = {
      name: event.payload.name,
      ...(event.payload.email ? { email: event.payload.email } : {}),
      ...(phone ? { phone } : {}),
      locale: defaultLocale,
    };
    try {
      const booked = await bookReservation(deps.booking, context, {
        reservationId,
        serviceId: mapping.serviceId,
        ...(mapping.resourceId !== undefined ? { resourceId: mapping.resourceId } : {}),
        start: event.payload.scheduled_event.start_time,
        customer,
        // Calendly has already given the invitee this time: the waitlist cannot take it back.
        bypassWaitlist: true,
      });
      if (booked.result.state.status === 'requested') {
        await confirmReservation(deps.booking, context, reservationId);
      }
      return { outcome: 'recorded', reservationId };
    } catch (error) {
      if (error instanceof DomainError && error.kind !== 'concurrency') return ignored('not-bookable', error.code);
      throw error;
    }
  }

  if (event.event === 'invitee.canceled') {
    const existing = await loadAggregate(deps.booking.eventStore, streamName, reservationDecider);
    if (existing.state.status === 'none') return ignored('unknown-invitee');
    if (existing.state.status !== 'requested' && existing.state.status !== 'confirmed') {
      return { outcome: 'already-recorded', reservationId };
    }
    const by = event.payload.cancellation?.canceler_type === 'host' ? 'staff' : 'customer';
    await cancelReservation(deps.booking, context, reservationId, { by });
    return { outcome: 'recorded', reservationId };
  }

  return ignored('unsupported-event');
}
