import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../support/catalog.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;
let auth: { authorization: string };

beforeAll(async () => {
  herald = await startTestHerald();
  auth = await herald.keyFor('occurrences');
});
afterAll(async () => {
  await herald.stop();
});

const SLOT = '2030-11-05T17:00:00.000Z';
const OTHER = '2030-11-06T17:00:00.000Z';

describe('texts for one occurrence of a service', () => {
  it("go into the payment receipt of that slot's reservations after the service's own, and only that slot's", async () => {
    const { serviceId } = await createCatalog(herald.app, auth, {
      prefix: 'occ',
      seatsPerSlot: 5,
      afterPaymentText: 'Bring a towel.',
      description: 'Hot yoga, 38 °C.',
    });
    const url = `/v1/services/${serviceId}/occurrences/${encodeURIComponent('2030-11-05T18:00:00+01:00')}`;
    const put = await herald.app.inject({
      method: 'PUT',
      url,
      headers: auth,
      payload: { afterPaymentText: 'Door code for 5 November: 4711.', description: 'This session is in room B.' },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({
      serviceId,
      start: SLOT,
      afterPaymentText: 'Door code for 5 November: 4711.',
      description: 'This session is in room B.',
    });
    const stream = await herald.adapters.eventStore.readStream(`service-occurrences+${serviceId}`);
    expect(stream.events.at(-1)).toMatchObject({ type: 'ServiceOccurrenceTextsChanged', data: { start: SLOT } });
    expect((await herald.app.inject({ method: 'GET', url, headers: auth })).json().afterPaymentText).toBe(
      'Door code for 5 November: 4711.',
    );

    const book = async (start: string, email: string) => {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: auth,
        payload: { serviceId, start, customer: { name: 'Ada', email, locale: 'en' } },
      });
      expect(response.statusCode, response.body).toBe(201);
      const { reservationId } = response.json();
      const paid = await herald.app.inject({
        method: 'POST',
        url: `/v1/reservations/${reservationId}/payments`,
        headers: auth,
        payload: { paymentId: `p-${email.split('@')[0]}`, amount: 25000, currency: 'CZK' },
      });
      expect(paid.statusCode).toBe(200);
    };
    await book(SLOT, 'slot@example.com');
    await book(OTHER, 'other@example.com');
    await herald.settle();
    const receipt = (to: string) =>
      herald.email.sent.find((m) => m.to === to && /payment received/i.test(m.subject))!.text;
    const confirmation = (to: string) =>
      herald.email.sent.find((m) => m.to === to && /confirmed/i.test(m.subject))!.text;
    expect(receipt('slot@example.com')).toMatch(/Bring a towel\.\n\nDoor code for 5 November: 4711\./);
    expect(confirmation('slot@example.com')).toMatch(/Hot yoga, 38 °C\.\n\nThis session is in room B\./);
    expect(receipt('other@example.com')).toContain('Bring a towel.');
    expect(receipt('other@example.com')).not.toContain('Door code');
    expect(confirmation('other@example.com')).not.toContain('room B');
  });

  it('refuses unsafe text and unknown services with problem+json; both empty removes them', async () => {
    const { serviceId } = await createCatalog(herald.app, auth, { prefix: 'occ2' });
    const url = `/v1/services/${serviceId}/occurrences/${encodeURIComponent(SLOT)}`;
    const unsafe = await herald.app.inject({
      method: 'PUT',
      url,
      headers: auth,
      payload: { afterPaymentText: 'a\u202Eb' },
    });
    expect(unsafe.statusCode).toBe(400);
    expect(unsafe.headers['content-type']).toMatch(/^application\/problem\+json/);
    const unknown = await herald.app.inject({
      method: 'PUT',
      url: `/v1/services/nope/occurrences/${encodeURIComponent(SLOT)}`,
      headers: auth,
      payload: { afterPaymentText: 'x' },
    });
    expect(unknown.statusCode).toBe(404);
    await herald.app.inject({ method: 'PUT', url, headers: auth, payload: { afterPaymentText: 'x' } });
    const cleared = await herald.app.inject({ method: 'PUT', url, headers: auth, payload: { afterPaymentText: '' } });
    expect(cleared.json()).toEqual({ serviceId, start: SLOT });
  });
});
