import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimReservationCode } from '../../src/application/booking/reservation-codes.js';
import type { IdSource } from '../../src/application/ports/id-source.port.js';
import { uuidIdSource } from '../../src/infrastructure/uuid-id-source.js';
import { createCatalog } from '../support/catalog.js';
import { aReservation, startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

const CODE = /^[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}$/;

describe('short reservation codes', () => {
  it('a catalog booking gets one, the confirmation shows it, and every reservation route takes it for the id', async () => {
    const { serviceId } = await createCatalog(herald.app, herald.auth, { prefix: 'codes-a' });
    const booked = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: herald.auth,
      payload: {
        serviceId,
        start: '2030-11-04T09:00:00Z',
        customer: { name: 'Eva Svobodová', phone: '+420777100200', locale: 'cs' },
      },
    });
    expect(booked.statusCode, booked.body).toBe(201);
    const { reservationId, code } = booked.json();
    expect(code).toMatch(CODE);
    await herald.settle();
    const sms = herald.sms.sent.find((m) => m.to === '+420777100200')!;
    expect(sms.body).toContain(code);
    expect(sms.body).not.toContain(reservationId);

    const typed = `${code.slice(0, 3).toLowerCase()}-${code.slice(3)}`;
    const byCode = await herald.app.inject({ method: 'GET', url: `/v1/reservations/${typed}`, headers: herald.auth });
    expect(byCode.statusCode).toBe(200);
    expect(byCode.json()).toMatchObject({ reservationId, code });
    const trail = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${code}/notifications`,
      headers: herald.auth,
    });
    expect(trail.json().items.map((d: { channel: string }) => d.channel)).toContain('sms');
    const cancelled = await herald.app.inject({
      method: 'POST',
      url: `/v1/reservations/${code}/cancel`,
      headers: herald.auth,
      payload: { by: 'customer' },
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ reservationId, status: 'cancelled' });
    const history = await herald.app.inject({
      method: 'GET',
      url: `/v1/reservations/${code}/history`,
      headers: herald.auth,
    });
    expect(history.json().reservationId).toBe(reservationId);
  });

  it('an external reservation gets one, and reporting it again keeps it', async () => {
    const payload = aReservation({ external: { system: 'pos', reference: 'codes-b-1' } });
    const first = await herald.app.inject({ method: 'POST', url: '/v1/reservations', headers: herald.auth, payload });
    const again = await herald.app.inject({ method: 'POST', url: '/v1/reservations', headers: herald.auth, payload });
    expect(first.json().code).toMatch(CODE);
    expect(again.statusCode).toBe(200);
    expect(again.json().code).toBe(first.json().code);
  });

  it("is the tenant's own: another tenant's code is 404, and an unknown code too", async () => {
    const other = await herald.keyFor('codes-other');
    const created = await herald.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: other,
      payload: aReservation(),
    });
    const { code } = created.json();
    expect(
      (await herald.app.inject({ method: 'GET', url: `/v1/reservations/${code}`, headers: other })).statusCode,
    ).toBe(200);
    const foreign = await herald.app.inject({ method: 'GET', url: `/v1/reservations/${code}`, headers: herald.auth });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(
      (await herald.app.inject({ method: 'GET', url: '/v1/reservations/ZZZZZZ', headers: herald.auth })).statusCode,
    ).toBe(404);
  });

  it('are unique within a tenant: 150 reservations, 150 codes, each claimed on its own stream', async () => {
    const auth = await herald.keyFor('codes-many');
    const codes = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const response = await herald.app.inject({
        method: 'POST',
        url: '/v1/reservations',
        headers: auth,
        payload: aReservation({ customer: { name: `C ${i}`, locale: 'en' } }),
      });
      codes.add(response.json().code);
      const claim = await herald.adapters.eventStore.readStream(`reservationcode-codes-many+${response.json().code}`);
      expect(claim.events.map((e) => [e.type, e.data.reservationId])).toEqual([
        ['ReservationCodeClaimed', response.json().reservationId],
      ]);
    }
    expect(codes.size).toBe(150);
  });

  it('a collision moves to the next candidate, the same one again when the booking is retried', async () => {
    // An id source under which every reservation's first candidate is the same code.
    const colliding: IdSource = {
      newId: uuidIdSource.newId,
      derive: (...parts) =>
        parts[0] === 'reservation-code' && parts[3] === '0'
          ? '00000000-0000-5000-8000-000000000000'
          : uuidIdSource.derive(...parts),
    };
    const deps = { eventStore: herald.adapters.eventStore, ids: colliding, clock: herald.clock };
    const context = { tenantId: 'codes-collide', actor: 'system:test' };
    const first = await claimReservationCode(deps, context, 'r-1');
    const second = await claimReservationCode(deps, context, 'r-2');
    expect(second).not.toBe(first);
    expect(await claimReservationCode(deps, context, 'r-2')).toBe(second);
    expect(await claimReservationCode(deps, context, 'r-1')).toBe(first);
  });
});
