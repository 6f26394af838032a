import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald.stop();
});

const inject = (
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
  headers: Record<string, string> = {},
) =>
  herald.app.inject({
    method,
    url,
    headers: { ...herald.auth, ...headers },
    ...(payload !== undefined ? { payload } : {}),
  });

async function eventCount(): Promise<number> {
  // Consumers append on their own after a request (the planner, the dispatcher): count once they have.
  await herald.settle();
  return (await herald.adapters.eventStore.readAll({ limit: 1_000_000 })).length;
}

const address = { street: 'Karl Johans gate 1', postalCode: '0154', city: 'Oslo', country: 'NO' };
const hours = {
  monday: [{ start: '09:00', end: '17:00' }],
  tuesday: [
    { start: '09:00', end: '12:00' },
    { start: '13:00', end: '17:00' },
  ],
};

let sequence = 0;
async function aLocation(overrides: Record<string, unknown> = {}) {
  const locationId = `loc-${++sequence}`;
  const response = await inject('POST', '/v1/locations', {
    locationId,
    name: 'Oslo Sentrum',
    address,
    timeZone: 'Europe/Oslo',
    ...overrides,
  });
  expect(response.statusCode, response.body).toBe(201);
  return locationId;
}
async function aResource(locationId: string, overrides: Record<string, unknown> = {}) {
  const resourceId = `res-${++sequence}`;
  const response = await inject('POST', '/v1/resources', {
    resourceId,
    locationId,
    name: 'Lane 1',
    kind: 'lane',
    weeklyHours: hours,
    ...overrides,
  });
  expect(response.statusCode, response.body).toBe(201);
  return resourceId;
}

describe('locations', () => {
  it('creates, reads (with an ETag), lists, updates with If-Match and archives a location, each change an event', async () => {
    const created = await inject('POST', '/v1/locations', {
      name: 'Bergen Bryggen',
      address: { ...address, city: 'Bergen' },
      timeZone: 'Europe/Oslo',
    });
    expect(created.statusCode).toBe(201);
    const location = created.json();
    expect(location).toMatchObject({ name: 'Bergen Bryggen', timeZone: 'Europe/Oslo', status: 'active', revision: 0 });
    expect(created.headers.location).toBe(`/v1/locations/${location.locationId}`);
    expect(created.headers.etag).toBe('"0"');

    const read = await inject('GET', `/v1/locations/${location.locationId}`);
    expect(read.json()).toEqual(location);
    expect(read.headers.etag).toBe('"0"');

    const renamed = await inject(
      'PATCH',
      `/v1/locations/${location.locationId}`,
      { name: 'Bergen Sentrum' },
      { 'if-match': '"0"' },
    );
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Bergen Sentrum', revision: 1 });

    const before = await eventCount();
    const stale = await inject(
      'PATCH',
      `/v1/locations/${location.locationId}`,
      { name: 'Lost update' },
      { 'if-match': '"0"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('stale-revision');
    expect(await eventCount()).toBe(before);

    await herald.settle();
    const list = await inject('GET', '/v1/locations');
    expect(list.json().items).toContainEqual(
      expect.objectContaining({ locationId: location.locationId, name: 'Bergen Sentrum', revision: 1 }),
    );

    const archived = await inject('DELETE', `/v1/locations/${location.locationId}?reason=closed`, undefined, {
      'if-match': '"1"',
    });
    expect(archived.json()).toMatchObject({ status: 'archived', revision: 2 });
    await herald.settle();
    expect(
      (await inject('GET', '/v1/locations')).json().items.map((item: { locationId: string }) => item.locationId),
    ).not.toContain(location.locationId);
    expect(
      (await inject('GET', '/v1/locations?includeArchived=true'))
        .json()
        .items.map((item: { locationId: string }) => item.locationId),
    ).toContain(location.locationId);

    const stream = await herald.adapters.eventStore.readStream(`location-default+${location.locationId}`);
    expect(stream.events.map((event) => [event.type, event.metadata.actor])).toEqual([
      ['LocationCreated', expect.stringMatching(/^apikey:/)],
      ['LocationUpdated', expect.stringMatching(/^apikey:/)],
      ['LocationArchived', expect.stringMatching(/^apikey:/)],
    ]);
  });

  it('refuses a time zone that is not IANA and a bad country, naming the field', async () => {
    const before = await eventCount();
    const zone = await inject('POST', '/v1/locations', { name: 'X', address, timeZone: '+02:00' });
    expect(zone.statusCode).toBe(400);
    expect(zone.json().errors[0].field).toBe('body.timeZone');
    const country = await inject('POST', '/v1/locations', {
      name: 'X',
      address: { ...address, country: 'N1' },
      timeZone: 'Europe/Oslo',
    });
    expect(country.statusCode).toBe(400);
    expect(country.json()).toMatchObject({ field: 'address.country', rule: 'iso-3166-alpha-2' });
    expect(await eventCount()).toBe(before);
  });

  it('creating the same location again is harmless; another one under the same id is a 409', async () => {
    const body = { locationId: 'loc-twice', name: 'Twice', address, timeZone: 'Europe/Oslo' };
    expect((await inject('POST', '/v1/locations', body)).statusCode).toBe(201);
    expect((await inject('POST', '/v1/locations', body)).statusCode).toBe(200);
    const clash = await inject('POST', '/v1/locations', { ...body, name: 'Other' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('location-already-exists');
  });

  it('404 for an unknown location; 403 for writes by staff keys, which may read', async () => {
    expect((await inject('GET', '/v1/locations/nope')).statusCode).toBe(404);
    const staff = await herald.keyFor('default', 'staff');
    const write = await herald.app.inject({
      method: 'POST',
      url: '/v1/locations',
      headers: staff,
      payload: { name: 'X', address, timeZone: 'Europe/Oslo' },
    });
    expect(write.statusCode).toBe(403);
    expect((await herald.app.inject({ method: 'GET', url: '/v1/locations', headers: staff })).statusCode).toBe(200);
  });
});

describe('resources', () => {
  it('creates a resource with weekly hours, exceptions and a staff contact; changes the schedule and contact', async () => {
    const locationId = await aLocation();
    const created = await inject('POST', '/v1/resources', {
      locationId,
      name: 'Anna',
      kind: 'staff',
      weeklyHours: hours,
      exceptions: {
        closedDates: ['2030-12-24'],
        extraHours: [{ date: '2030-12-21', intervals: [{ start: '10:00', end: '14:00' }] }],
      },
      contact: { email: 'anna@example.com', phone: '+4791234567' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const resource = created.json();
    expect(resource).toMatchObject({
      locationId,
      kind: 'staff',
      weeklyHours: { monday: [{ start: '09:00', end: '17:00' }], sunday: [] },
      exceptions: { closedDates: ['2030-12-24'] },
      contact: { email: 'anna@example.com', phone: '+4791234567' },
      revision: 0,
    });

    const schedule = await inject(
      'PUT',
      `/v1/resources/${resource.resourceId}/schedule`,
      { weeklyHours: { friday: [{ start: '08:00', end: '12:00' }] } },
      { 'if-match': '"0"' },
    );
    expect(schedule.statusCode).toBe(200);
    expect(schedule.json()).toMatchObject({
      weeklyHours: { monday: [], friday: [{ start: '08:00', end: '12:00' }] },
      exceptions: { closedDates: [] },
    });

    const contact = await inject(
      'PATCH',
      `/v1/resources/${resource.resourceId}`,
      { contact: { email: 'anna@salon.example.com' } },
      { 'if-match': '"1"' },
    );
    expect(contact.json()).toMatchObject({ contact: { email: 'anna@salon.example.com' }, revision: 2 });
    expect(
      (await inject('PATCH', `/v1/resources/${resource.resourceId}`, { name: 'X' }, { 'if-match': '"1"' })).statusCode,
    ).toBe(412);

    await herald.settle();
    const list = await inject('GET', `/v1/resources?locationId=${locationId}`);
    expect(list.json().items).toEqual([
      expect.objectContaining({ resourceId: resource.resourceId, revision: 2, kind: 'staff' }),
    ]);
    const events = await herald.adapters.eventStore.readStream(`resource-default+${resource.resourceId}`);
    expect(events.events.map((event) => event.type)).toEqual([
      'ResourceCreated',
      'ResourceScheduleChanged',
      'ResourceUpdated',
    ]);
  });

  it('refuses overlapping intervals, a bad time, and an unknown or archived location, naming the rule; nothing appended', async () => {
    const locationId = await aLocation();
    const before = await eventCount();
    const overlapping = await inject('POST', '/v1/resources', {
      locationId,
      name: 'X',
      kind: 'room',
      weeklyHours: {
        monday: [
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ],
      },
    });
    expect(overlapping.json()).toMatchObject({ status: 400, field: 'weeklyHours.monday', rule: 'non-overlapping' });
    const badTime = await inject('POST', '/v1/resources', {
      locationId,
      name: 'X',
      kind: 'room',
      weeklyHours: { monday: [{ start: '9', end: '12:00' }] },
    });
    expect(badTime.json()).toMatchObject({ status: 400, rule: 'local-time' });
    const unknown = await inject('POST', '/v1/resources', {
      locationId: 'nowhere',
      name: 'X',
      kind: 'room',
      weeklyHours: {},
    });
    expect(unknown.json()).toMatchObject({ status: 400, field: 'locationId', rule: 'unknown-location' });
    expect(await eventCount()).toBe(before);
  });
});

describe('services', () => {
  it('creates a service with its resources, texts and rules; updates it with If-Match; archives it', async () => {
    const locationId = await aLocation();
    const lane1 = await aResource(locationId);
    const lane2 = await aResource(locationId);
    const created = await inject('POST', '/v1/services', {
      locationId,
      name: 'Aqua fit',
      description: 'A 45-minute class in the warm pool.',
      durationMinutes: 45,
      seatsPerSlot: 12,
      bufferMinutes: 15,
      maxPartySize: 4,
      resourceIds: [lane1, lane2],
      requiresConfirmation: true,
      afterPaymentText: 'Towels are at the desk.',
    });
    expect(created.statusCode, created.body).toBe(201);
    const service = created.json();
    expect(service).toMatchObject({
      durationMinutes: 45,
      seatsPerSlot: 12,
      bufferMinutes: 15,
      maxPartySize: 4,
      slotIntervalMinutes: 60,
      resourceIds: [lane1, lane2],
      requiresConfirmation: true,
      description: 'A 45-minute class in the warm pool.',
      afterPaymentText: 'Towels are at the desk.',
      status: 'active',
    });

    const updated = await inject(
      'PATCH',
      `/v1/services/${service.serviceId}`,
      { seatsPerSlot: 10, resourceIds: [lane2], afterPaymentText: '' },
      { 'if-match': '"0"' },
    );
    expect(updated.statusCode, updated.body).toBe(200);
    expect(updated.json()).toMatchObject({ seatsPerSlot: 10, resourceIds: [lane2], revision: 1 });
    expect(updated.json().afterPaymentText ?? '').toBe('');
    const stale = await inject(
      'PATCH',
      `/v1/services/${service.serviceId}`,
      { seatsPerSlot: 8 },
      { 'if-match': '"0"' },
    );
    expect(stale.statusCode).toBe(412);

    await herald.settle();
    const list = await inject('GET', `/v1/services?locationId=${locationId}`);
    expect(list.json().items).toEqual([
      expect.objectContaining({ serviceId: service.serviceId, seatsPerSlot: 10, revision: 1 }),
    ]);

    const archived = await inject('DELETE', `/v1/services/${service.serviceId}`);
    expect(archived.json().status).toBe('archived');
    const again = await inject('PATCH', `/v1/services/${service.serviceId}`, { seatsPerSlot: 8 });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('service-archived');
  });

  it('refuses a party size above the seats, unknown resources and resources of another location; nothing appended', async () => {
    const locationId = await aLocation();
    const otherLocation = await aLocation();
    const lane = await aResource(locationId);
    const elsewhere = await aResource(otherLocation);
    const base = { locationId, name: 'Swim', durationMinutes: 60, seatsPerSlot: 4, resourceIds: [lane] };
    const before = await eventCount();
    expect((await inject('POST', '/v1/services', { ...base, maxPartySize: 5 })).json()).toMatchObject({
      status: 400,
      field: 'maxPartySize',
      rule: 'at-most-seats-per-slot',
    });
    expect((await inject('POST', '/v1/services', { ...base, resourceIds: ['ghost'] })).json()).toMatchObject({
      status: 400,
      field: 'resourceIds[0]',
      rule: 'unknown-resource',
    });
    expect((await inject('POST', '/v1/services', { ...base, resourceIds: [lane, elsewhere] })).json()).toMatchObject({
      status: 400,
      field: 'resourceIds[1]',
      rule: 'same-location',
    });
    expect((await inject('POST', '/v1/services', { ...base, durationMinutes: 0 })).json()).toMatchObject({
      status: 400,
      field: 'durationMinutes',
      rule: 'range',
    });
    expect(await eventCount()).toBe(before);
  });

  it('keeps tenants apart', async () => {
    const locationId = await aLocation();
    const other = await herald.keyFor('tenant-b');
    expect(
      (await herald.app.inject({ method: 'GET', url: `/v1/locations/${locationId}`, headers: other })).statusCode,
    ).toBe(404);
    const list = await herald.app.inject({ method: 'GET', url: '/v1/locations', headers: other });
    expect(list.json().items).toEqual([]);
  });
});
