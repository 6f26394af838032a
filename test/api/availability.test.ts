import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

// 2030-06-03 is a Monday; Oslo is at +02:00 then.
const DAY = '2030-06-03';
const at = (hhmm: string, date = DAY) => `${date}T${hhmm}:00+02:00`;

const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
  herald.app.inject({ method, url, headers: herald.auth, ...(payload !== undefined ? { payload } : {}) });

const everyDay = (start: string, end: string) =>
  Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [
      day,
      [{ start, end }],
    ]),
  );
const weekdays = (start: string, end: string) =>
  Object.fromEntries(['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [day, [{ start, end }]]));

let catalogs = 0;
async function aCatalog(
  service: Record<string, unknown> = {},
  options: { resources?: number; weeklyHours?: Record<string, unknown>; closedDates?: string[] } = {},
) {
  const prefix = `a${++catalogs}`;
  const locationId = `${prefix}-loc`;
  await inject('POST', '/v1/locations', {
    locationId,
    name: 'Badet',
    address: { street: 'Sjøgata 1', city: 'Oslo', country: 'NO' },
    timeZone: 'Europe/Oslo',
  });
  const resourceIds: string[] = [];
  for (let index = 1; index <= (options.resources ?? 1); index++) {
    const resourceId = `${prefix}-r${index}`;
    const created = await inject('POST', '/v1/resources', {
      resourceId,
      locationId,
      name: `Lane ${index}`,
      kind: 'lane',
      weeklyHours: options.weeklyHours ?? weekdays('09:00', '12:00'),
      exceptions: { closedDates: options.closedDates ?? [] },
    });
    expect(created.statusCode, created.body).toBe(201);
    resourceIds.push(resourceId);
  }
  const serviceId = `${prefix}-svc`;
  const created = await inject('POST', '/v1/services', {
    serviceId,
    locationId,
    name: 'Swim',
    durationMinutes: 60,
    seatsPerSlot: 1,
    resourceIds,
    ...service,
  });
  expect(created.statusCode, created.body).toBe(201);
  await herald.settle();
  return { serviceId, resourceIds, locationId };
}

async function availability(query: Record<string, string | number | boolean>) {
  const search = new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
  );
  return inject('GET', `/v1/availability?${search.toString()}`);
}
async function slotsOf(query: Record<string, string | number | boolean>) {
  const response = await availability(query);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().slots as {
    resourceId: string;
    start: string;
    localStart: string;
    remainingSeats: number;
    capacity: number;
  }[];
}
const day = (date = DAY) => ({ from: at('00:00', date), to: `${date}T23:59:00+02:00` });

let customers = 0;
async function book(serviceId: string, start: string, extra: Record<string, unknown> = {}) {
  customers++;
  const response = await inject('POST', '/v1/reservations', {
    serviceId,
    start,
    customer: { name: `Guest ${customers}`, email: `guest-${customers}@example.com` },
    ...extra,
  });
  return response;
}

describe('GET /v1/availability', () => {
  it('lists the bookable slots of each resource with their seats, in the location zone', async () => {
    const { serviceId, resourceIds, locationId } = await aCatalog(
      { seatsPerSlot: 6, maxPartySize: 3 },
      { resources: 2 },
    );
    const response = await availability({ serviceId, ...day() });
    expect(response.json()).toMatchObject({ serviceId, locationId, timeZone: 'Europe/Oslo' });
    const slots = response.json().slots as { resourceId: string; localStart: string; remainingSeats: number }[];
    expect(slots.map((slot) => [slot.localStart, slot.resourceId, slot.remainingSeats])).toEqual([
      [`${DAY}T09:00:00+02:00`, resourceIds[0], 6],
      [`${DAY}T09:00:00+02:00`, resourceIds[1], 6],
      [`${DAY}T10:00:00+02:00`, resourceIds[0], 6],
      [`${DAY}T10:00:00+02:00`, resourceIds[1], 6],
      [`${DAY}T11:00:00+02:00`, resourceIds[0], 6],
      [`${DAY}T11:00:00+02:00`, resourceIds[1], 6],
    ]);
    expect(response.json().slots[0]).toMatchObject({
      start: '2030-06-03T07:00:00.000Z',
      end: '2030-06-03T08:00:00.000Z',
      capacity: 6,
    });
    expect(await slotsOf({ serviceId, ...day(), resourceId: resourceIds[1] ?? '' })).toHaveLength(3);
  });

  it('has nothing on closed days and weekends', async () => {
    const { serviceId } = await aCatalog({}, { closedDates: ['2030-06-04'] });
    expect(await slotsOf({ serviceId, ...day('2030-06-04') })).toEqual([]);
    expect(await slotsOf({ serviceId, ...day('2030-06-08') })).toEqual([]);
    expect(await slotsOf({ serviceId, ...day('2030-06-05') })).toHaveLength(3);
  });

  it('keeps 09:00 at 09:00 local across the spring daylight-saving change', async () => {
    const { serviceId } = await aCatalog({}, { weeklyHours: everyDay('09:00', '10:00') });
    const slots = await slotsOf({ serviceId, from: '2030-03-29T00:00:00+01:00', to: '2030-04-02T00:00:00+02:00' });
    expect(slots.map((slot) => [slot.localStart, slot.start])).toEqual([
      ['2030-03-29T09:00:00+01:00', '2030-03-29T08:00:00.000Z'],
      ['2030-03-30T09:00:00+01:00', '2030-03-30T08:00:00.000Z'],
      ['2030-03-31T09:00:00+02:00', '2030-03-31T07:00:00.000Z'],
      ['2030-04-01T09:00:00+02:00', '2030-04-01T07:00:00.000Z'],
    ]);
  });

  it('follows the bookings: seats go down, a full slot disappears (unless asked for), a cancellation brings it back', async () => {
    const { serviceId } = await aCatalog({ seatsPerSlot: 3, maxPartySize: 2 });
    const first = await book(serviceId, at('10:00'), { partySize: 2 });
    expect(first.statusCode).toBe(201);
    await herald.settle();
    const ten = async (query: Record<string, string | number | boolean> = {}) =>
      (await slotsOf({ serviceId, ...day(), ...query })).filter((slot) => slot.localStart === `${DAY}T10:00:00+02:00`);
    expect((await ten()).map((slot) => slot.remainingSeats)).toEqual([1]);
    expect(await ten({ partySize: 2 })).toEqual([]);
    expect((await ten({ partySize: 2, includeFull: true })).map((slot) => slot.remainingSeats)).toEqual([1]);

    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    await herald.settle();
    expect(await ten()).toEqual([]);

    await inject('POST', `/v1/reservations/${first.json().reservationId}/cancel`, { by: 'customer' });
    await herald.settle();
    expect((await ten()).map((slot) => slot.remainingSeats)).toEqual([2]);
  });

  it('hides every slot that overlaps a booked one on the same resource', async () => {
    const { serviceId } = await aCatalog({ slotIntervalMinutes: 30 });
    expect((await slotsOf({ serviceId, ...day() })).map((slot) => slot.localStart.slice(11, 16))).toEqual([
      '09:00',
      '09:30',
      '10:00',
      '10:30',
      '11:00',
    ]);
    expect((await book(serviceId, at('10:00'))).statusCode).toBe(201);
    await herald.settle();
    expect((await slotsOf({ serviceId, ...day() })).map((slot) => slot.localStart.slice(11, 16))).toEqual([
      '09:00',
      '11:00',
    ]);
  });

  it('lists exactly what can be booked: booking every listed slot succeeds and leaves none', async () => {
    const { serviceId } = await aCatalog(
      { durationMinutes: 40, bufferMinutes: 10, slotIntervalMinutes: 25 },
      { resources: 2 },
    );
    for (let round = 0; round < 10; round++) {
      const slots = await slotsOf({ serviceId, ...day() });
      if (slots.length === 0) break;
      const [slot] = slots;
      if (!slot) break;
      const booked = await book(serviceId, slot.start, { resourceId: slot.resourceId });
      expect(booked.statusCode, booked.body).toBe(201);
      await herald.settle();
    }
    expect(await slotsOf({ serviceId, ...day() })).toEqual([]);
  });

  it('answers an empty list for another location, and 400 naming the rule for bad questions', async () => {
    const { serviceId, resourceIds } = await aCatalog();
    const other = await aCatalog();
    expect(await slotsOf({ serviceId, ...day(), locationId: other.locationId })).toEqual([]);
    const cases: Array<[Record<string, string | number>, string]> = [
      [{ serviceId: 'ghost', ...day() }, 'unknown-service'],
      [{ serviceId, ...day(), resourceId: other.resourceIds[0] ?? '' }, 'unknown-resource'],
      [{ serviceId, from: '2030-06-03T00:00:00', to: day().to }, 'instant-with-zone'],
      [{ serviceId, from: day().to, to: day().from }, 'after-from'],
      [{ serviceId, from: day().from, to: '2031-06-03T00:00:00Z' }, 'range-too-long'],
      [{ serviceId, ...day(), partySize: 2 }, 'party-too-large'],
    ];
    for (const [query, rule] of cases) {
      const response = await availability(query);
      expect(response.statusCode, JSON.stringify(query)).toBe(400);
      expect(response.json().rule).toBe(rule);
    }
    expect(resourceIds).toHaveLength(1);
  });
});
