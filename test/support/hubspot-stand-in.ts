import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for HubSpot's "Send event data" (`POST /events/v3/send`,
 * https://developers.hubspot.com/docs/api-reference/latest/events/send-event-data/send-event-occurrence). It checks
 * the documented request as HubSpot's published spec (HubSpot/HubSpot-public-api-spec-collection, Events, Send Event
 * Completions v3, `BehavioralEventHttpCompletionRequest`) describes it — that collection is "not licensed for
 * external use", so it is read, not vendored: Bearer token of a private app (401 `{ status: "error", category:
 * "INVALID_AUTHENTICATION" }` else), a JSON object with only `eventName` and `properties` (both required; property
 * values strings), `email`, `objectId`, `utk`, `occurredAt` (date-time) and `uuid`, and one of `email` / `objectId`
 * / `utk` to name the contact. An event must be defined (`defineEvent`, with its properties): an unknown event or property is a 400
 * `VALIDATION_ERROR`, as HubSpot answers. 204 No Content when recorded; the same `uuid` again is recorded once.
 */

export interface HubSpotOccurrence {
  readonly eventName: string;
  readonly email: string;
  readonly uuid?: string;
  readonly properties: Record<string, unknown>;
}

export interface HubSpotStandIn extends HttpStandIn {
  readonly occurrences: readonly HubSpotOccurrence[];
  readonly violations: readonly string[];
  defineEvent(fullyQualifiedName: string, properties: readonly string[]): void;
}

const KEYS = new Set(['eventName', 'email', 'objectId', 'utk', 'occurredAt', 'uuid', 'properties']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function startHubSpotStandIn(options: { accessToken: string }): Promise<HubSpotStandIn> {
  const occurrences: HubSpotOccurrence[] = [];
  const violations: string[] = [];
  const events = new Map<string, Set<string>>();
  const error = (status: number, category: string, message: string): StandInAnswer => ({
    status,
    json: { status: 'error', message, correlationId: '00000000-0000-4000-8000-000000000000', category },
  });
  const refuse = (message: string): StandInAnswer => {
    violations.push(message);
    return error(400, 'VALIDATION_ERROR', message);
  };
  const base = await startHttpStandIn({
    failureAnswer: ({ status }) =>
      status === 429
        ? error(429, 'RATE_LIMITS', 'You have reached your secondly limit.')
        : error(status, 'INTERNAL_ERROR', 'Internal error'),
    handle(request) {
      if (request.method !== 'POST' || request.path !== '/events/v3/send')
        return error(404, 'OBJECT_NOT_FOUND', 'Not found');
      if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
        return error(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found.');
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse('not JSON');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return refuse('body is not JSON');
      }
      for (const key of Object.keys(body)) if (!KEYS.has(key)) return refuse(`unknown field ${key}`);
      if (typeof body.eventName !== 'string' || body.eventName === '') return refuse('eventName is required');
      if (body.email === undefined && body.objectId === undefined && body.utk === undefined) {
        return refuse('one of email, objectId or utk is required');
      }
      if (body.email !== undefined && (typeof body.email !== 'string' || !body.email.includes('@'))) {
        return refuse('email is not an email address');
      }
      if (body.occurredAt !== undefined && Number.isNaN(Date.parse(String(body.occurredAt)))) {
        return refuse('occurredAt is not a date-time');
      }
      if (body.uuid !== undefined && (typeof body.uuid !== 'string' || !UUID.test(body.uuid))) {
        return refuse('uuid is not a UUID');
      }
      const properties = body.properties as Record<string, unknown>;
      if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
        return refuse('properties is required: an object');
      }
      for (const [name, value] of Object.entries(properties)) {
        if (typeof value !== 'string') return refuse(`property ${name} must be a string`);
      }
      // Documented refusals, not contract violations: the account has no such event or property.
      const defined = events.get(body.eventName);
      if (!defined) return error(400, 'VALIDATION_ERROR', `Event ${body.eventName} is not defined`);
      const unknown = Object.keys(properties).find((p) => !defined.has(p));
      if (unknown) return error(400, 'VALIDATION_ERROR', `Property ${unknown} is not defined on ${body.eventName}`);
      const occurrence = {
        eventName: body.eventName,
        email: String(body.email),
        ...(typeof body.uuid === 'string' ? { uuid: body.uuid } : {}),
        properties,
      };
      return {
        status: 204,
        after: () => {
          if (occurrence.uuid && occurrences.some((o) => o.uuid === occurrence.uuid)) return;
          occurrences.push(occurrence);
          base.accepted.push(occurrence);
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    occurrences,
    violations,
    defineEvent(name: string, properties: readonly string[]) {
      events.set(name, new Set(properties));
    },
    reset() {
      resetBase();
      occurrences.length = 0;
      violations.length = 0;
    },
  });
}
