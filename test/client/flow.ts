/**
 * A Herald client written the way an integrator would write one: against the types openapi-typescript generates
 * from /openapi.json (`./generated/schema.ts`, written by test/integration/generated-client.test.ts at test time and
 * typechecked with test/client/tsconfig.json), called through openapi-fetch. It compiles only if the document gives
 * each operation its operationId, types errors as the Problem schema and declares the response headers read here.
 */
import createClient from 'openapi-fetch';
import type { components, operations, paths } from './generated/schema.js';

export type Problem = components['schemas']['Problem'];
type Reservation = components['schemas']['Reservation'];

/** Operations a generated SDK names by operationId: these must exist, with these answers. */
type Created = operations['createReservation']['responses'][201];
type Cancelled = operations['cancelReservation']['responses'][200];
type Listed = operations['listReservationNotifications']['responses'][200];
type Stale = operations['cancelReservation']['responses'][412];

export interface Exchange {
  readonly method: string;
  /** The path template of the operation, as the document names it. */
  readonly path: string;
  readonly status: number;
  readonly headers: readonly string[];
}

export interface FlowResult {
  readonly created: { status: number; reservation: Reservation; etag: Created['headers']['ETag']; location: string };
  readonly replayed: { status: number; replayedHeader: string | null; sameId: boolean };
  readonly fetched: { status: number; reservation: Reservation; etag: string | null };
  readonly invalid: { status: number; problem: Problem; contentType: string | null };
  readonly stale: { status: number; problem: Stale['content']['application/problem+json'] };
  readonly cancelled: { status: number; reservation: Cancelled['content']['application/json']; etag: string | null };
  readonly missing: { status: number; problem: Problem };
  readonly deliveries: Listed['content']['application/json']['items'];
  readonly exchanges: readonly Exchange[];
}

export async function drive(baseUrl: string, apiKey: string, settle: () => Promise<void>): Promise<FlowResult> {
  const exchanges: Exchange[] = [];
  const client = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` } });
  client.use({
    onResponse({ request, response, schemaPath }) {
      exchanges.push({
        method: request.method,
        path: schemaPath,
        status: response.status,
        headers: [...response.headers.keys()],
      });
    },
  });

  const body = {
    customer: { name: 'Grace Hopper', email: 'grace@example.com', phone: '+4791234567', locale: 'nb-NO' },
    serviceName: 'Massage',
    location: { name: 'Spa Oslo', address: 'Karl Johans gate 1, Oslo', timeZone: 'Europe/Oslo' },
    start: '2031-05-04T08:00:00Z',
    end: '2031-05-04T09:00:00Z',
  };
  const post = () =>
    client.POST('/v1/reservations', { body, params: { header: { 'idempotency-key': 'generated-client-1' } } });
  const first = await post();
  if (!first.data) throw new Error(`createReservation: ${first.response.status} ${JSON.stringify(first.error)}`);
  const reservation: Reservation = first.data;
  const etag: Created['headers']['ETag'] = first.response.headers.get('etag') ?? '';
  const again = await post();

  const fetched = await client.GET('/v1/reservations/{reservationId}', {
    params: { path: { reservationId: reservation.reservationId } },
  });
  if (!fetched.data) throw new Error(`getReservation: ${fetched.response.status}`);

  const invalid = await client.POST('/v1/reservations', { body: { ...body, end: body.start } });
  if (!invalid.error) throw new Error(`an invalid reservation was accepted: ${invalid.response.status}`);

  const stale = await client.POST('/v1/reservations/{reservationId}/cancel', {
    params: { path: { reservationId: reservation.reservationId }, header: { 'if-match': '"41", W/"0"' } },
    body: { by: 'customer', reason: 'Changed plans' },
  });
  if (!stale.error) throw new Error(`a stale If-Match was accepted: ${stale.response.status}`);

  const cancelled = await client.POST('/v1/reservations/{reservationId}/cancel', {
    params: { path: { reservationId: reservation.reservationId }, header: { 'if-match': etag } },
    body: { by: 'customer', reason: 'Changed plans' },
  });
  if (!cancelled.data) throw new Error(`cancelReservation: ${cancelled.response.status}`);

  const missing = await client.GET('/v1/reservations/{reservationId}', {
    params: { path: { reservationId: 'no-such-reservation' } },
  });
  if (!missing.error) throw new Error('a reservation that does not exist was found');

  await settle();
  const deliveries = await client.GET('/v1/reservations/{reservationId}/notifications', {
    params: { path: { reservationId: reservation.reservationId } },
  });
  if (!deliveries.data) throw new Error(`listReservationNotifications: ${deliveries.response.status}`);

  return {
    created: {
      status: first.response.status,
      reservation,
      etag,
      location: first.response.headers.get('location') ?? '',
    },
    replayed: {
      status: again.response.status,
      replayedHeader: again.response.headers.get('idempotent-replayed'),
      sameId: again.data?.reservationId === reservation.reservationId,
    },
    fetched: { status: fetched.response.status, reservation: fetched.data, etag: fetched.response.headers.get('etag') },
    invalid: {
      status: invalid.response.status,
      problem: invalid.error,
      contentType: invalid.response.headers.get('content-type'),
    },
    stale: { status: stale.response.status, problem: stale.error },
    cancelled: {
      status: cancelled.response.status,
      reservation: cancelled.data,
      etag: cancelled.response.headers.get('etag'),
    },
    missing: { status: missing.response.status, problem: missing.error },
    deliveries: deliveries.data.items,
    exchanges,
  };
}
