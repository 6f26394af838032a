import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for ActiveCampaign's event tracking (`POST https://trackcmp.net/event`,
 * https://developers.activecampaign.com/reference/track-event). It checks the documented request: the
 * `application/x-www-form-urlencoded` content type, only the fields `actid`, `key`, `event` (required, at most 32
 * characters), `eventdata` and `visit` (required: JSON `{ "email": … }`), and the account's actid and event key.
 * The answer is 200 `{ success: 1, message: "Event spawned" }`; a wrong key or actid is 200
 * `{ success: 0, message }`, as the tracking endpoint answers. A contact that does not exist (`addContact`) is
 * refused with `{ success: 0 }` too: the reference does not say what the endpoint answers for one, so this is the
 * stand-in's assumption (what the adapter must handle is only that `success: 0` is a refusal).
 */

export interface ActiveCampaignEvent {
  readonly event: string;
  readonly email: string;
  readonly eventdata?: string;
}

export interface ActiveCampaignStandIn extends HttpStandIn {
  readonly events: readonly ActiveCampaignEvent[];
  readonly violations: readonly string[];
  addContact(email: string): void;
}

const FIELDS = new Set(['actid', 'key', 'event', 'eventdata', 'visit']);

export async function startActiveCampaignStandIn(options: {
  actid: string;
  eventKey: string;
}): Promise<ActiveCampaignStandIn> {
  const events: ActiveCampaignEvent[] = [];
  const violations: string[] = [];
  const contacts = new Set<string>();
  const answer = (success: 0 | 1, message: string): StandInAnswer => ({ status: 200, json: { success, message } });
  const refuse = (message: string): StandInAnswer => {
    violations.push(message);
    return answer(0, message);
  };
  const base = await startHttpStandIn({
    // The reference documents no wait for a 429 on this endpoint: none is sent.
    failureAnswer: ({ status }) => ({
      status,
      json: { success: 0, message: status === 429 ? 'Too many requests' : 'Server error' },
    }),
    handle(request) {
      if (request.method !== 'POST' || request.path !== '/event') return { status: 404, text: 'Not Found' };
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return refuse('Content-Type must be application/x-www-form-urlencoded');
      }
      const form = new URLSearchParams(request.body);
      for (const name of form.keys()) if (!FIELDS.has(name)) return refuse(`unknown field ${name}`);
      if (form.get('actid') !== options.actid || form.get('key') !== options.eventKey) {
        return answer(0, 'Invalid key or actid');
      }
      const event = form.get('event') ?? '';
      if (event === '' || [...event].length > 32) return refuse('event is required, at most 32 characters');
      let visit: { email?: unknown };
      try {
        visit = JSON.parse(form.get('visit') ?? '') as { email?: unknown };
      } catch {
        return refuse('visit must be JSON');
      }
      if (typeof visit?.email !== 'string' || !visit.email.includes('@')) return refuse('visit.email is required');
      if (!contacts.has(visit.email.toLowerCase())) return answer(0, 'Contact not found');
      const eventdata = form.get('eventdata');
      const recorded = { event, email: visit.email, ...(eventdata !== null ? { eventdata } : {}) };
      return {
        ...answer(1, 'Event spawned'),
        after: () => {
          events.push(recorded);
          base.accepted.push(recorded);
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    events,
    violations,
    addContact(email: string) {
      contacts.add(email.toLowerCase());
    },
    reset() {
      resetBase();
      events.length = 0;
      violations.length = 0;
    },
  });
}
