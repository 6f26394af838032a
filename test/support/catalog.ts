import type { FastifyInstance } from 'fastify';

export interface CatalogOptions {
  /** Prefix of every id. */
  readonly prefix: string;
  /** Seats of one slot: 1 for appointments, 30 for a class. Default 1. */
  readonly seatsPerSlot?: number;
  readonly maxPartySize?: number;
  readonly resources?: number;
  readonly serviceName?: string;
  readonly afterPaymentText?: string;
  readonly description?: string;
}

export interface Catalog {
  readonly locationId: string;
  readonly resourceIds: string[];
  readonly serviceId: string;
}

const EVERY_DAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * A location in Prague open every day 08:00-20:00, `resources` resources and one 60-minute service on them, created
 * through the API (so the tests use what a client would). Throws when a step is refused.
 */
export async function createCatalog(
  app: FastifyInstance,
  auth: Record<string, string>,
  options: CatalogOptions,
): Promise<Catalog> {
  const post = async (url: string, payload: object) => {
    const response = await app.inject({ method: 'POST', url, headers: auth, payload });
    if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  };
  const locationId = `${options.prefix}-loc`;
  await post('/v1/locations', {
    locationId,
    name: 'Wellness Praha',
    address: { street: 'Vodičkova 1', postalCode: '11000', city: 'Praha', country: 'CZ' },
    timeZone: 'Europe/Prague',
  });
  const resourceIds: string[] = [];
  for (let index = 1; index <= (options.resources ?? 1); index++) {
    const resourceId = `${options.prefix}-room-${index}`;
    await post('/v1/resources', {
      resourceId,
      locationId,
      name: `Room ${index}`,
      kind: 'room',
      weeklyHours: Object.fromEntries(EVERY_DAY.map((day) => [day, [{ start: '08:00', end: '20:00' }]])),
    });
    resourceIds.push(resourceId);
  }
  const serviceId = `${options.prefix}-svc`;
  const seatsPerSlot = options.seatsPerSlot ?? 1;
  await post('/v1/services', {
    serviceId,
    locationId,
    name: options.serviceName ?? 'Yoga',
    description: options.description ?? 'Bring a mat.',
    durationMinutes: 60,
    seatsPerSlot,
    maxPartySize: options.maxPartySize ?? 1,
    resourceIds,
    ...(options.afterPaymentText ? { afterPaymentText: options.afterPaymentText } : {}),
  });
  return { locationId, resourceIds, serviceId };
}
