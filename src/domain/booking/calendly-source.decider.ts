import type { SealedCredentials } from '../notification/channel-configuration.decider.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { ValidationError } from '../shared/errors.js';

/**
 * Calendly as a reservation source of one tenant (docs/channels/calendly.md). Stream `sources-<tenant>+calendly`.
 * Holds the webhook signing key, sealed by the application before the command is decided (the domain never sees it
 * in clear), with a keyed fingerprint, and which Herald service (and resource) each Calendly event type books.
 */

export interface CalendlyEventTypeMapping {
  /** The event type's URI as Calendly sends it (`https://api.calendly.com/event_types/<uuid>`). */
  readonly eventTypeUri: string;
  readonly serviceId: string;
  /** Absent: the first of the service's resources with a free seat. */
  readonly resourceId?: string;
}

export const MAX_CALENDLY_EVENT_TYPES = 100;
const EVENT_TYPE_URI = /^https:\/\/[^\s/?#@]+\/event_types\/[A-Za-z0-9_-]{1,100}$/;
const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

export interface CalendlySource {
  readonly sealed: SealedCredentials;
  readonly fingerprint: string;
  readonly eventTypes: readonly CalendlyEventTypeMapping[];
  readonly configuredAt: string;
  readonly by: string;
}

export type CalendlySourceState =
  | { readonly status: 'none' }
  | ({ readonly status: 'configured' } & CalendlySource)
  | { readonly status: 'removed'; readonly removedAt: string };

export type ConfigureCalendlySource = Command<
  'ConfigureCalendlySource',
  {
    readonly tenantId: string;
    readonly sealed: SealedCredentials;
    readonly fingerprint: string;
    readonly eventTypes: readonly CalendlyEventTypeMapping[];
    readonly at: string;
    readonly by: string;
  }
>;
export type RemoveCalendlySource = Command<
  'RemoveCalendlySource',
  { readonly tenantId: string; readonly at: string; readonly by: string }
>;
export type CalendlySourceCommand = ConfigureCalendlySource | RemoveCalendlySource;

export type CalendlySourceConfigured = DomainEvent<'CalendlySourceConfigured', ConfigureCalendlySource['data']>;
export type CalendlySourceRemoved = DomainEvent<'CalendlySourceRemoved', RemoveCalendlySource['data']>;
export type CalendlySourceEvent = CalendlySourceConfigured | CalendlySourceRemoved;

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid-calendly-configuration', message, { field });
}

export function validateEventTypes(eventTypes: readonly CalendlyEventTypeMapping[]): void {
  if (!Array.isArray(eventTypes) || eventTypes.length === 0 || eventTypes.length > MAX_CALENDLY_EVENT_TYPES) {
    throw invalid('eventTypes', `Map 1 to ${MAX_CALENDLY_EVENT_TYPES} Calendly event types to services.`);
  }
  const seen = new Set<string>();
  for (const [index, mapping] of eventTypes.entries()) {
    const field = `eventTypes.${index}`;
    if (typeof mapping.eventTypeUri !== 'string' || !EVENT_TYPE_URI.test(mapping.eventTypeUri)) {
      throw invalid(
        `${field}.eventTypeUri`,
        'An event type URI looks like https://api.calendly.com/event_types/<uuid>.',
      );
    }
    if (seen.has(mapping.eventTypeUri)) throw invalid(`${field}.eventTypeUri`, 'This event type is mapped twice.');
    seen.add(mapping.eventTypeUri);
    if (typeof mapping.serviceId !== 'string' || !ID.test(mapping.serviceId)) {
      throw invalid(`${field}.serviceId`, 'Invalid service id.');
    }
    if (mapping.resourceId !== undefined && (typeof mapping.resourceId !== 'string' || !ID.test(mapping.resourceId))) {
      throw invalid(`${field}.resourceId`, 'Invalid resource id.');
    }
  }
}

const sameMappings = (a: readonly CalendlyEventTypeMapping[], b: readonly CalendlyEventTypeMapping[]) =>
  JSON.stringify(a.map((m) => [m.eventTypeUri, m.serviceId, m.resourceId ?? null])) ===
  JSON.stringify(b.map((m) => [m.eventTypeUri, m.serviceId, m.resourceId ?? null]));

export function decideCalendlySource(
  command: CalendlySourceCommand,
  state: CalendlySourceState,
): CalendlySourceEvent[] {
  switch (command.type) {
    case 'ConfigureCalendlySource': {
      validateEventTypes(command.data.eventTypes);
      if (typeof command.data.fingerprint !== 'string' || command.data.fingerprint.length === 0) {
        throw invalid('signingKey', 'The signing key is not sealed.');
      }
      if (command.data.sealed?.v !== 1) throw invalid('signingKey', 'The signing key is not sealed.');
      // The same key (by fingerprint; the seal's IV is random) and the same mappings again change nothing.
      if (
        state.status === 'configured' &&
        state.fingerprint === command.data.fingerprint &&
        sameMappings(state.eventTypes, command.data.eventTypes)
      ) {
        return [];
      }
      return [{ type: 'CalendlySourceConfigured', data: command.data }];
    }
    case 'RemoveCalendlySource':
      if (state.status !== 'configured') return [];
      return [{ type: 'CalendlySourceRemoved', data: command.data }];
  }
}

export function evolveCalendlySource(state: CalendlySourceState, event: CalendlySourceEvent): CalendlySourceState {
  switch (event.type) {
    case 'CalendlySourceConfigured':
      return {
        status: 'configured',
        sealed: event.data.sealed,
        fingerprint: event.data.fingerprint,
        eventTypes: event.data.eventTypes,
        configuredAt: event.data.at,
        by: event.data.by,
      };
    case 'CalendlySourceRemoved':
      return { status: 'removed', removedAt: event.data.at };
    default:
      return state;
  }
}

export const calendlySourceDecider: Decider<CalendlySourceCommand, CalendlySourceState, CalendlySourceEvent> = {
  decide: decideCalendlySource,
  evolve: evolveCalendlySource,
  initialState: () => ({ status: 'none' }),
};
