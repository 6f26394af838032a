import type { Herald } from '../../src/interfaces/herald.js';
import { AUTH, createHeraldOnServers, freePort } from './herald-harness.js';
import type { Logger } from '../../src/application/ports/logger.port.js';

/**
 * A started Herald on embedded stores, listening on a free loopback port (for a browser to open), sending through
 * the given SMTP server and Twilio stand-in, with one bookable sauna: location `spa` (Prague), resource `spa-room`
 * (weekdays 08:00-20:00), service `spa-sauna` (60 minutes, one seat). Throws when the catalog is refused.
 */
export async function spaOnLoopback(options: {
  readonly smtpUrl: string;
  readonly twilioUrl: string;
  readonly logger: Logger;
}): Promise<{ herald: Herald; base: string }> {
  const port = await freePort();
  const herald = await createHeraldOnServers({ readModels: { kind: 'sqlite' }, ...options, port });
  await herald.start();
  await herald.app.listen({ port, host: '127.0.0.1' });
  const create = async (url: string, payload: object) => {
    const response = await herald.app.inject({ method: 'POST', url, headers: AUTH, payload });
    if (response.statusCode !== 201) throw new Error(`POST ${url}: ${response.statusCode} ${response.body}`);
  };
  await create('/v1/locations', {
    locationId: 'spa',
    name: 'Lázně Praha',
    address: { street: 'Vodičkova 1', postalCode: '110 00', city: 'Praha', country: 'CZ' },
    timeZone: 'Europe/Prague',
  });
  const hours = [{ start: '08:00', end: '20:00' }];
  await create('/v1/resources', {
    resourceId: 'spa-room',
    locationId: 'spa',
    name: 'Sauna room',
    kind: 'room',
    weeklyHours: { monday: hours, tuesday: hours, wednesday: hours, thursday: hours, friday: hours },
  });
  await create('/v1/services', {
    serviceId: 'spa-sauna',
    locationId: 'spa',
    name: 'Sauna',
    durationMinutes: 60,
    seatsPerSlot: 1,
    resourceIds: ['spa-room'],
  });
  return { herald, base: `http://127.0.0.1:${port}` };
}
