import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stand-ins for the two free/busy APIs Herald reads (issue 12), served on loopback. They check requests against the
 * providers' published reference and answer in the documented shape:
 * - Google Calendar API v3 `freebusy.query` (https://developers.google.com/workspace/calendar/api/v3/reference/freebusy/query):
 *   `POST /calendar/v3/freeBusy`, OAuth bearer token, body `{ timeMin, timeMax (RFC 3339), timeZone?, items: [{ id }] }`;
 *   answer `{ kind: 'calendar#freeBusy', timeMin, timeMax, calendars: { <id>: { busy: [{ start, end }], errors? } } }`.
 * - Microsoft Graph v1.0 `calendar: getSchedule` (https://learn.microsoft.com/graph/api/calendar-getschedule,
 *   https://learn.microsoft.com/graph/outlook-get-free-busy-schedule): `POST /v1.0/users/{id}/calendar/getSchedule`,
 *   body `{ schedules: [smtp], startTime, endTime: dateTimeTimeZone, availabilityViewInterval? }`, a range under 42
 *   days; answer `{ value: [{ scheduleId, availabilityView, scheduleItems: [{ status, start, end }] }] }`, times in
 *   the zone the `Prefer: outlook.timezone` header asks for (UTC otherwise).
 * Anything else is answered as the providers do (400/401/404) and counted in `rejected`, which tests assert empty.
 */
export interface BusyPeriod {
  readonly start: string;
  readonly end: string;
  /** Graph only: free, tentative, busy, oof, workingElsewhere, unknown. */
  readonly status?: string;
}

export interface CalendarApiStandIn {
  readonly url: string;
  /** Busy periods by Google calendar id / Graph schedule address. */
  readonly busy: Map<string, BusyPeriod[]>;
  /** Tokens accepted; any other is answered 401. */
  readonly tokens: Set<string>;
  /** Requests that broke the documented contract (with why). */
  readonly rejected: string[];
  /** Served requests: path and the window asked for. */
  readonly served: { path: string; from: string; to: string }[];
  /** Answers the next request with this status (and Retry-After) instead. */
  failNext?: { status: number; retryAfter?: string };
  close(): Promise<void>;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const GRAPH_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/;
const DAY_MS = 86_400_000;

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  response.end(JSON.stringify(body));
}

const overlapping = (periods: readonly BusyPeriod[], from: number, to: number) =>
  periods.filter((p) => Date.parse(p.start) < to && Date.parse(p.end) > from);

export async function startCalendarApiStandIn(): Promise<CalendarApiStandIn> {
  const standIn = {
    busy: new Map<string, BusyPeriod[]>(),
    tokens: new Set<string>(),
    rejected: [] as string[],
    served: [] as { path: string; from: string; to: string }[],
  } as Omit<CalendarApiStandIn, 'url' | 'close'> & { failNext?: { status: number; retryAfter?: string } };

  const reject = (response: ServerResponse, status: number, why: string) => {
    standIn.rejected.push(why);
    send(response, status, { error: { code: status, message: why } });
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const text = await bodyOf(request);
      const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
      if (request.method !== 'POST') return reject(response, 405, `${request.method} ${path}`);
      const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token || !standIn.tokens.has(token)) {
        // Not a contract breach: an expired or revoked token, answered as the providers do.
        return send(response, 401, { error: { code: 401, message: 'Invalid Credentials', status: 'UNAUTHENTICATED' } });
      }
      if (standIn.failNext) {
        const { status, retryAfter } = standIn.failNext;
        standIn.failNext = undefined;
        return send(response, status, { error: { code: status } }, retryAfter ? { 'retry-after': retryAfter } : {});
      }
      if (!/^application\/json\b/.test(request.headers['content-type'] ?? '')) {
        return reject(response, 400, 'content-type is not application/json');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return reject(response, 400, 'body is not JSON');
      }

      if (path === '/calendar/v3/freeBusy') {
        const { timeMin, timeMax, timeZone, items } = body as {
          timeMin?: unknown;
          timeMax?: unknown;
          timeZone?: unknown;
          items?: unknown;
        };
        if (typeof timeMin !== 'string' || !RFC3339.test(timeMin)) return reject(response, 400, 'timeMin');
        if (typeof timeMax !== 'string' || !RFC3339.test(timeMax)) return reject(response, 400, 'timeMax');
        if (Date.parse(timeMax) <= Date.parse(timeMin)) return reject(response, 400, 'timeMax before timeMin');
        if (timeZone !== undefined && typeof timeZone !== 'string') return reject(response, 400, 'timeZone');
        if (!Array.isArray(items) || items.length === 0 || items.length > 50)
          return reject(response, 400, 'items must list 1-50 calendars');
        const ids = items.map((item) => (item as { id?: unknown }).id);
        if (!ids.every((id) => typeof id === 'string' && id.length > 0)) return reject(response, 400, 'items[].id');
        const extra = Object.keys(body).filter(
          (key) =>
            !['timeMin', 'timeMax', 'timeZone', 'groupExpansionMax', 'calendarExpansionMax', 'items'].includes(key),
        );
        if (extra.length > 0) return reject(response, 400, `unknown fields ${extra.join(', ')}`);
        standIn.served.push({ path, from: timeMin, to: timeMax });
        const from = Date.parse(timeMin);
        const to = Date.parse(timeMax);
        const calendars = Object.fromEntries(
          (ids as string[]).map((id) => {
            const periods = standIn.busy.get(id);
            return [
              id,
              periods
                ? { busy: overlapping(periods, from, to).map(({ start, end }) => ({ start, end })) }
                : { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] },
            ];
          }),
        );
        return send(response, 200, { kind: 'calendar#freeBusy', timeMin, timeMax, calendars });
      }

      const graph = /^\/v1\.0\/users\/([^/]+)\/calendar\/getSchedule$/.exec(path);
      if (graph) {
        const { schedules, startTime, endTime, availabilityViewInterval } = body as {
          schedules?: unknown;
          startTime?: { dateTime?: unknown; timeZone?: unknown };
          endTime?: { dateTime?: unknown; timeZone?: unknown };
          availabilityViewInterval?: unknown;
        };
        if (!Array.isArray(schedules) || schedules.length === 0 || !schedules.every((s) => typeof s === 'string'))
          return reject(response, 400, 'schedules');
        for (const [name, value] of [
          ['startTime', startTime],
          ['endTime', endTime],
        ] as const) {
          if (typeof value?.dateTime !== 'string' || !GRAPH_DATE_TIME.test(value.dateTime))
            return reject(response, 400, `${name}.dateTime`);
          if (value.timeZone !== 'UTC') return reject(response, 400, `${name}.timeZone (the stand-in reads UTC only)`);
        }
        if (
          availabilityViewInterval !== undefined &&
          !(
            Number.isInteger(availabilityViewInterval) &&
            (availabilityViewInterval as number) >= 5 &&
            (availabilityViewInterval as number) <= 1440
          )
        )
          return reject(response, 400, 'availabilityViewInterval must be 5-1440 minutes');
        const from = Date.parse(`${startTime?.dateTime as string}Z`);
        const to = Date.parse(`${endTime?.dateTime as string}Z`);
        if (!(to > from)) return reject(response, 400, 'endTime before startTime');
        if (to - from >= 42 * DAY_MS) return reject(response, 400, 'the range must be under 42 days');
        standIn.served.push({ path, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
        const prefer = [request.headers.prefer ?? ''].flat().join(', ');
        const zone = /outlook\.timezone="([^"]+)"/.exec(prefer)?.[1] ?? 'UTC';
        if (zone !== 'UTC') return reject(response, 400, 'the stand-in answers in UTC only');
        const graphTime = (iso: string) => ({
          dateTime: new Date(iso).toISOString().replace('Z', '0000'),
          timeZone: 'UTC',
        });
        const value = (schedules as string[]).map((scheduleId) => {
          const periods = standIn.busy.get(scheduleId);
          if (!periods) {
            return {
              scheduleId,
              error: { message: 'The specified schedule was not found', responseCode: 'ErrorMailRecipientNotFound' },
            };
          }
          return {
            scheduleId,
            availabilityView: '',
            scheduleItems: overlapping(periods, from, to).map((p) => ({
              isPrivate: false,
              status: p.status ?? 'busy',
              start: graphTime(p.start),
              end: graphTime(p.end),
            })),
          };
        });
        return send(response, 200, {
          '@odata.context':
            'https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)',
          value,
        });
      }
      return reject(response, 404, `unknown path ${path}`);
    })().catch((error: unknown) => {
      standIn.rejected.push(`stand-in error: ${String(error)}`);
      if (!response.headersSent) send(response, 500, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(standIn, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  }) as CalendarApiStandIn;
}
