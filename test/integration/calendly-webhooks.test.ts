import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog, type Catalog } from '../support/catalog.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

// Calendly as a reservation source, over real HTTP on loopback: the webhook is posted to Herald's socket the way
// Calendly posts it (raw JSON body, Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">,
// per developer.calendly.com "Webhook signatures"); the payload has the fields Calendly's invitee payload documents.
// Breaks when: a signed invitee.created does not become a reservation with its confirmation; a redelivery books or
// sends twice; a cancellation does not free the seat for the waitlist; a bad or stale signature changes anything.

const SIGNING_KEY = 'calendly-signing-key-0123456789abcdef';
const EVENT_TYPE = 'https://api.calendly.com/event_types/AAAAAAAAAAAAAAAA';
const OTHER_EVENT_TYPE = 'https://api.calendly.com/event_types/BBBBBBBBBBBBBBBB';
/** Tuesday 4 June 2030, 10:00 in Prague. */
const START = '2030-06-04T08:00:00.000Z';
const END = '2030-06-04T09:00:00.000Z';

let herald: TestHerald;
let base: string;
let catalog: Catalog;
let auth: { authorization: string };

beforeAll(async () => {
  herald = await startTestHerald();
  auth = await herald.keyFor('spa');
  catalog = await createCatalog(herald.app, auth, { prefix: 'cal', seatsPerSlot: 1 });
  await herald.app.listen({ port: 0, host: '127.0.0.1' });
  const address = herald.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await herald?.stop();
});

const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, text };
};

let invitees = 0;
function anInvitee(
  event: 'invitee.created' | 'invitee.canceled',
  overrides: { uri?: string; eventType?: string } = {},
) {
  const uri = overrides.uri ?? `https://api.calendly.com/scheduled_events/EV${++invitees}/invitees/INV${invitees}`;
  return {
    event,
    created_at: '2030-06-01T10:00:00.000000Z',
    created_by: 'https://api.calendly.com/users/UUUUUUUUUUUUUUUU',
    payload: {
      uri,
      name: 'Ada Lovelace',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ada.calendly@example.com',
      text_reminder_number: '+420 777 123 456',
      timezone: 'Europe/Prague',
      status: event === 'invitee.created' ? 'active' : 'canceled',
      rescheduled: false,
      event: uri.replace(/\/invitees\/.*$/, ''),
      scheduled_event: {
        uri: uri.replace(/\/invitees\/.*$/, ''),
        name: 'Sauna',
        status: event === 'invitee.created' ? 'active' : 'canceled',
        start_time: START,
        end_time: END,
        event_type: overrides.eventType ?? EVENT_TYPE,
      },
      questions_and_answers: [],
      cancellation:
        event === 'invitee.canceled' ? { canceled_by: 'Ada Lovelace', reason: 'ill', canceler_type: 'invitee' } : null,
    },
  };
}

/** Posts like Calendly: the signature over `t.body` with the key (or `key`), `t` now (or `at` seconds). */
async function deliver(payload: unknown, options: { key?: string; at?: number; tenant?: string } = {}) {
  const body = JSON.stringify(payload);
  const t = options.at ?? Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', options.key ?? SIGNING_KEY)
    .update(`${t}.${body}`)
    .digest('hex');
  const response = await fetch(`${base}/v1/webhooks/calendly/${options.tenant ?? 'spa'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'calendly-webhook-signature': `t=${t},v1=${v1}` },
    body,
  });
  const text = await response.text();
  await herald.settle();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : {},
  };
}

const reservationEvents = async () =>
  (
    await herald.adapters.eventStore.readAll({
      eventTypes: ['ReservationRequested', 'ReservationConfirmed', 'ReservationCancelled'],
    })
  ).length;
const emailsTo = (address: string) => herald.email.sent.filter((m) => m.to === address);

describe('Calendly webhooks as a reservation source', () => {
  it('is configured by an admin with a sealed signing key that never comes back', async () => {
    const configured = await api('PUT', '/v1/integrations/calendly', {
      signingKey: SIGNING_KEY,
      eventTypes: [{ eventTypeUri: EVENT_TYPE, serviceId: catalog.serviceId }],
    });
    expect(configured.status, configured.text).toBe(200);
    expect(configured.body).toMatchObject({
      configured: true,
      eventTypes: [{ eventTypeUri: EVENT_TYPE, serviceId: catalog.serviceId }],
    });
    expect(configured.text).not.toContain(SIGNING_KEY);
    const stream = await herald.adapters.eventStore.readStream('sources-spa+calendly');
    expect(stream.events.map((e) => e.type)).toEqual(['CalendlySourceConfigured']);
    expect(JSON.stringify(stream.events.map((e) => e.data))).not.toContain(SIGNING_KEY);
  });

  it('a bad signature, a stale timestamp or no signature is a 401 problem+json and changes nothing', async () => {
    const before = await reservationEvents();
    const sent = herald.email.sent.length;
    const payload = anInvitee('invitee.created');
    const wrongKey = await deliver(payload, { key: 'someone-elses-key-0123456789' });
    const stale = await deliver(payload, { at: Math.floor(Date.now() / 1000) - 600 });
    const unsigned = await fetch(`${base}/v1/webhooks/calendly/spa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    for (const answer of [wrongKey, stale]) {
      expect(answer.status).toBe(401);
      expect(answer.type).toContain('application/problem+json');
      expect(answer.body.code).toBe('invalid-calendly-signature');
    }
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toContain('application/problem+json');
    // A tenant that has not configured Calendly: 404, nothing recorded either.
    const elsewhere = await deliver(payload, { tenant: 'default' });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.type).toContain('application/problem+json');
    expect(await reservationEvents()).toBe(before);
    expect(herald.email.sent.length).toBe(sent);
  });

  it('invitee.created books the mapped service with its confirmation; a redelivery changes nothing', async () => {
    const payload = anInvitee('invitee.created');
    const created = await deliver(payload);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body).toMatchObject({ outcome: 'recorded' });
    const reservationId = created.body.reservationId as string;

    const reservation = await api('GET', `/v1/reservations/${reservationId}`);
    expect(reservation.status).toBe(200);
    expect(reservation.body).toMatchObject({
      status: 'confirmed',
      serviceId: catalog.serviceId,
      start: START,
      customer: { name: 'Ada Lovelace', email: 'ada.calendly@example.com', phone: '+420777123456' },
    });
    const confirmations = emailsTo('ada.calendly@example.com').filter((m) =>
      m.subject.startsWith('Reservation confirmed:'),
    );
    expect(confirmations).toHaveLength(1);
    const smsConfirmations = herald.sms.sent.filter((m) => m.to === '+420777123456');
    expect(smsConfirmations).toHaveLength(1);

    const events = await reservationEvents();
    const sent = herald.email.sent.length + herald.sms.sent.length;
    // Calendly redelivers with a new timestamp and signature.
    const again = await deliver(payload, { at: Math.floor(Date.now() / 1000) + 1 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ outcome: 'already-recorded', reservationId });
    expect(await reservationEvents()).toBe(events);
    expect(herald.email.sent.length + herald.sms.sent.length).toBe(sent);

    // invitee.canceled frees the seat: the customer waiting for it is offered it, like after any cancellation.
    const full = await api('POST', '/v1/reservations', {
      serviceId: catalog.serviceId,
      start: START,
      customer: { name: 'Grace Hopper', email: 'grace@example.com', locale: 'en' },
    });
    expect(full.status).toBe(409);
    const joined = await api(full.body.waitlist.method, full.body.waitlist.href, full.body.waitlist.body);
    expect(joined.status, joined.text).toBe(201);
    await herald.settle();

    const canceled = anInvitee('invitee.canceled', { uri: payload.payload.uri });
    const cancelled = await deliver(canceled);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ outcome: 'recorded', reservationId });
    expect((await api('GET', `/v1/reservations/${reservationId}`)).body.status).toBe('cancelled');
    const entry = await api('GET', `/v1/waitlists/${joined.body.waitlistId}/entries/${joined.body.entryId}`);
    expect(entry.body).toMatchObject({ status: 'offered', offer: { status: 'open' } });
    expect(emailsTo('grace@example.com').filter((m) => m.subject.startsWith('A place is free:'))).toHaveLength(1);

    const cancelledEvents = await reservationEvents();
    const sentAfterCancel = herald.email.sent.length + herald.sms.sent.length;
    const redelivered = await deliver(canceled, { at: Math.floor(Date.now() / 1000) + 2 });
    expect(redelivered.body).toEqual({ outcome: 'already-recorded', reservationId });
    expect(await reservationEvents()).toBe(cancelledEvents);
    expect(herald.email.sent.length + herald.sms.sent.length).toBe(sentAfterCancel);
  });

  it('the signature is checked before the body is read; a signed body over 128 KiB is a 413', async () => {
    const before = await reservationEvents();
    const huge = JSON.stringify({ ...anInvitee('invitee.created'), padding: 'x'.repeat(200 * 1024) });
    const unsigned = await fetch(`${base}/v1/webhooks/calendly/spa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'calendly-webhook-signature': 't=1,v1=00' },
      body: huge,
    });
    expect(unsigned.status).toBe(401);
    const signed = await deliver(JSON.parse(huge));
    expect(signed.status).toBe(413);
    expect(signed.type).toContain('application/problem+json');
    expect(await reservationEvents()).toBe(before);
  });

  it('an event type with no mapping is answered 200 ignored (Calendly retries non-2xx) and books nothing', async () => {
    const before = await reservationEvents();
    const answer = await deliver(anInvitee('invitee.created', { eventType: OTHER_EVENT_TYPE }));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ outcome: 'ignored', reason: 'unknown-event-type' });
    expect(await reservationEvents()).toBe(before);
  });
});
