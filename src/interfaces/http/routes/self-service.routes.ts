import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { findAvailability } from '../../../application/booking/availability-query.js';
import {
  bookReservation,
  cancelReservation,
  rescheduleReservation,
} from '../../../application/booking/booking-commands.js';
import { listCatalog } from '../../../application/catalog/catalog-queries.js';
import type { CommandContext } from '../../../application/command-handler.js';
import {
  changeCustomerPreferences,
  readCustomerPreferences,
} from '../../../application/notifications/notification-admin.js';
import { customerRefOf, loadNotificationSettings } from '../../../application/notifications/notification-settings.js';
import type { CustomerLinkSubject } from '../../../application/ports/customer-links.port.js';
import { loadChannelConfiguration } from '../../../application/channels/channel-configuration.js';
import { getReservation, listReservationNotifications } from '../../../application/reservations/reservation-queries.js';
import {
  changeSelfServiceSettings,
  customerRules,
  loadSelfServiceSettings,
  requireAllowed,
} from '../../../application/self-service/self-service.js';
import {
  acceptOffer,
  declineOffer,
  joinWaitlist,
  loadWaitlist,
} from '../../../application/waitlist/waitlist-commands.js';
import { listWaitlistNotifications } from '../../../application/waitlist/waitlist-queries.js';
import type { ExistingState } from '../../../domain/booking/reservation.decider.js';
import {
  buildIcs,
  CUSTOMER_BLOCKABLE_KINDS,
  maskAddress,
  reservationIcsUid,
  resolveLanguage,
} from '../../../domain/notification/index.js';
import type { SelfServiceSettings } from '../../../domain/self-service/self-service-settings.js';
import { NotFoundError, ValidationError } from '../../../domain/shared/errors.js';
import {
  findEntry,
  positionOf,
  type OpenWaitlistState,
  type WaitlistEntry,
} from '../../../domain/waitlist/waitlist.decider.js';
import { CUSTOMER_LINK_DAYS_AFTER_END } from '../../../application/notifications/notification-planner.js';
import { commandContext, requireRole } from '../auth.js';
import { etagFor, expectedRevisionFrom } from '../conditional.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { ifMatchHeaders, json, problems } from '../schemas/common.js';
import {
  availabilitySchema,
  bookingPageSchema,
  customerCancelSchema,
  customerPageSchema,
  customerPreferencesChangeSchema,
  customerRescheduleSchema,
  customerSlotsQuery,
  publicAvailabilityQuery,
  publicBookingAnswerSchema,
  publicBookingSchema,
  publicWaitlistAnswerSchema,
  publicWaitlistJoinSchema,
  selfServiceSettingsSchema,
  tenantParams,
  type customerReservationSchema,
  type customerWaitlistEntrySchema,
} from '../schemas/self-service.js';
import { bookingDepsFrom } from './booking.routes.js';

/** How long a Telegram start link on the customer's page works. */
const TELEGRAM_LINK_MS = 60 * 60 * 1000;

const ONE_MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** The public pages ask for at most a month of slots at a time: bounded work for an unauthenticated caller. */
const MAX_PUBLIC_RANGE_DAYS = 31;
const BOOKING_PAGE_ACTOR = 'customer:booking-page';
const CUSTOMER_PAGE_ACTOR = 'customer:own-page';

type CustomerReservation = z.infer<typeof customerReservationSchema>;
type CustomerEntry = z.infer<typeof customerWaitlistEntrySchema>;

function customerReservation(state: ExistingState): CustomerReservation {
  const r = state.reservation;
  return {
    reservationId: r.reservationId,
    code: r.code ?? null,
    status: state.status,
    serviceId: r.serviceId ?? null,
    serviceName: r.serviceName,
    location: { name: r.location.name, address: r.location.address, timeZone: r.location.timeZone },
    start: r.start,
    end: r.end,
    partySize: r.partySize,
    customer: {
      name: r.customer.name,
      email: r.customer.email ? maskAddress('email', r.customer.email) : null,
      phone: r.customer.phone ? maskAddress('sms', r.customer.phone) : null,
      locale: r.customer.locale,
    },
  };
}

function customerEntry(state: OpenWaitlistState, entry: WaitlistEntry): CustomerEntry {
  return {
    waitlistId: state.waitlistId,
    entryId: entry.entryId,
    status: entry.status,
    position: positionOf(state, entry.entryId),
    partySize: entry.partySize,
    joinedAt: entry.joinedAt,
    slot: {
      serviceName: state.slot.serviceName,
      location: {
        name: state.slot.location.name,
        address: state.slot.location.address,
        timeZone: state.slot.location.timeZone,
      },
      start: state.slot.start,
      end: state.slot.end,
    },
    offer: entry.offer
      ? {
          status: entry.offer.status,
          mode: entry.offer.mode,
          expiresAt: entry.offer.expiresAt ?? null,
          reservationId: entry.offer.reservationId,
        }
      : null,
    reservationId: entry.reservationId,
  };
}

function rangeChecked(from: string, to: string): { from: string; to: string } {
  const start = Date.parse(from);
  const end = Date.parse(to);
  if (Number.isNaN(start) || Number.isNaN(end)) {
    throw new ValidationError('invalid-input', 'from and to must be ISO-8601 instants.', {
      field: 'query.from',
      rule: 'instant',
    });
  }
  if (end - start > MAX_PUBLIC_RANGE_DAYS * DAY_MS || end <= start) {
    throw new ValidationError('invalid-input', `to must be after from, at most ${MAX_PUBLIC_RANGE_DAYS} days later.`, {
      field: 'query.to',
      rule: 'range',
      maxDays: MAX_PUBLIC_RANGE_DAYS,
    });
  }
  return { from, to };
}

/**
 * The tenant's public booking page and the customer's own page, over the API: public routes (no API key) that do
 * bounded work, cheap checks first (shapes, the link's signature, the per-address limit), then a few stream reads.
 * And the admin's settings for them.
 */
export function selfServiceRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const booking = bookingDepsFrom(deps);
  return async (app) => {
    const publicLimit = app.createRateLimit({
      max: deps.limits?.publicRequestsPerMinute ?? 120,
      timeWindow: ONE_MINUTE_MS,
      keyGenerator: (request) => `public:${request.ip}`,
    });
    /** preHandler of every public route: PUBLIC_REQUESTS_PER_MINUTE per client address, then 429. */
    const limited = async (request: FastifyRequest, reply: FastifyReply) => {
      const limit = await publicLimit(request);
      if (!limit.isAllowed && limit.isExceeded) {
        const seconds = Math.max(1, limit.ttlInSeconds);
        reply.header('retry-after', String(seconds));
        throw new HttpProblem(
          problem(429, 'rate-limited', 'Too many requests from this address.', {
            detail: `At most ${limit.max} requests a minute; retry after the Retry-After seconds.`,
            retryAfterSeconds: seconds,
          }),
        );
      }
    };
    const publicRoute = { config: { public: true }, preHandler: limited } as const;

    // Settings -------------------------------------------------------------------------------------------------------

    app.get(
      '/settings/self-service',
      {
        schema: {
          operationId: 'getSelfServiceSettings',
          tags: ['settings'],
          summary: 'What customers may do themselves: the booking page, cancelling and moving from their own page.',
          response: {
            200: json(selfServiceSettingsSchema, 'The settings in force.', { ETag: false }),
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { settings, revision } = await loadSelfServiceSettings(deps, principal.tenantId);
        if (revision !== undefined) reply.header('etag', etagFor(revision));
        return reply.send(settings);
      },
    );

    app.put(
      '/settings/self-service',
      {
        schema: {
          operationId: 'replaceSelfServiceSettings',
          tags: ['settings'],
          summary: 'Admin: switch the public booking page on or off, and set the customers’ own cancel and move rules.',
          headers: ifMatchHeaders,
          body: selfServiceSettingsSchema,
          response: {
            200: json(selfServiceSettingsSchema, 'The settings now in force.', { ETag: false }),
            ...problems(403, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { settings, revision } = await changeSelfServiceSettings(
          deps,
          commandContext(principal, request.id),
          request.body as SelfServiceSettings,
          expectedRevisionFrom(request),
        );
        if (revision !== undefined) reply.header('etag', etagFor(revision));
        return reply.send(settings);
      },
    );

    // The public booking page -------------------------------------------------------------------------------------------

    /** The tenant, when it is active and its booking page is on; one 404 otherwise (tenants are not enumerable). */
    const bookingTenant = async (tenantId: string) => {
      const notFound = () =>
        new NotFoundError('booking-page-not-found', 'There is no booking page here.', { tenantId });
      let tenant;
      try {
        tenant = await deps.tenancy.getTenant(tenantId);
      } catch (error) {
        if (error instanceof NotFoundError) throw notFound();
        throw error;
      }
      if (tenant.status !== 'active') throw notFound();
      const { settings } = await loadSelfServiceSettings(deps, tenantId);
      if (!settings.bookingPage.enabled) throw notFound();
      return tenant;
    };

    const pageAnswer = (subject: CustomerLinkSubject, end: string) => {
      const validUntil = new Date(Date.parse(end) + CUSTOMER_LINK_DAYS_AFTER_END * DAY_MS).toISOString();
      return {
        customerPageUrl: deps.customerLinks.linkFor(subject, validUntil),
        customerToken: deps.customerLinks.tokenFor(subject, validUntil),
      };
    };

    app.get(
      '/public/tenants/:tenantId/booking-page',
      {
        ...publicRoute,
        schema: {
          operationId: 'getBookingPage',
          tags: ['booking page'],
          summary: 'Public: the tenant’s name and its bookable services, for the booking page.',
          security: [],
          params: tenantParams,
          response: { 200: json(bookingPageSchema, 'The booking page.'), ...problems(404, 429) },
        },
      },
      async (request) => {
        const tenant = await bookingTenant(request.params.tenantId);
        const [services, locations] = await Promise.all([
          listCatalog(deps.readModels, tenant.tenantId, 'service'),
          listCatalog(deps.readModels, tenant.tenantId, 'location'),
        ]);
        const byId = new Map(locations.map((location) => [String(location.id), location]));
        return {
          tenantId: tenant.tenantId,
          name: tenant.name,
          defaultLocale: tenant.defaultLocale,
          services: services.flatMap((service) => {
            const location = byId.get(String(service.locationId));
            if (!location) return [];
            const address = location.address as { street?: string; postalCode?: string; city?: string } | undefined;
            return [
              {
                serviceId: String(service.serviceId),
                name: String(service.name),
                description: String(service.description ?? ''),
                durationMinutes: Number(service.durationMinutes),
                maxPartySize: Number(service.maxPartySize),
                location: {
                  locationId: String(location.locationId),
                  name: String(location.name),
                  address: [address?.street, [address?.postalCode, address?.city].filter(Boolean).join(' ')]
                    .filter(Boolean)
                    .join(', '),
                  timeZone: String(location.timeZone),
                },
              },
            ];
          }),
        };
      },
    );

    app.get(
      '/public/tenants/:tenantId/availability',
      {
        ...publicRoute,
        schema: {
          operationId: 'getPublicAvailability',
          tags: ['booking page'],
          summary: 'Public: a service’s slots with their free seats (full ones too, to offer the waitlist).',
          security: [],
          params: tenantParams,
          querystring: publicAvailabilityQuery,
          response: { 200: json(availabilitySchema, 'The slots, earliest first.'), ...problems(404, 429) },
        },
      },
      async (request) => {
        const tenant = await bookingTenant(request.params.tenantId);
        const { serviceId, partySize } = request.query;
        const range = rangeChecked(request.query.from, request.query.to);
        return findAvailability(deps, tenant.tenantId, {
          serviceId,
          ...range,
          includeFull: true,
          ...(partySize !== undefined ? { partySize } : {}),
        });
      },
    );

    app.post(
      '/public/tenants/:tenantId/reservations',
      {
        ...publicRoute,
        schema: {
          operationId: 'bookOnBookingPage',
          tags: ['booking page'],
          summary: 'Public: book a slot as a customer; the answer has the reservation and the link to their own page.',
          description:
            'The same booking as POST /v1/reservations, by the customer: 409 slot-full / resource-busy / ' +
            'slot-reserved-for-waitlist when the seats are gone (offer the waitlist then). Sending the same requestId ' +
            'again gives the same reservation (a double tap books once).',
          security: [],
          params: tenantParams,
          body: publicBookingSchema,
          response: {
            201: json(publicBookingAnswerSchema, 'Booked.', { 'Cache-Control': true }),
            200: json(publicBookingAnswerSchema, 'Already booked by this request.', { 'Cache-Control': true }),
            ...problems(404, 409, 429),
          },
        },
      },
      async (request, reply) => {
        const tenant = await bookingTenant(request.params.tenantId);
        const body = request.body;
        // Derived from the page's random request id: a caller cannot name (and so read) a reservation not its own.
        const reservationId = deps.ids.derive('booking-page', tenant.tenantId, body.requestId);
        const context: CommandContext = {
          tenantId: tenant.tenantId,
          actor: BOOKING_PAGE_ACTOR,
          correlationId: request.id,
        };
        const { result } = await bookReservation(booking, context, {
          reservationId,
          serviceId: body.serviceId,
          start: body.start,
          ...(body.partySize !== undefined ? { partySize: body.partySize } : {}),
          customer: {
            name: body.customer.name,
            locale: body.customer.locale,
            ...(body.customer.email ? { email: body.customer.email } : {}),
            ...(body.customer.phone ? { phone: body.customer.phone } : {}),
          },
        });
        if (result.state.status === 'none') throw new Error('booking left no reservation');
        return reply
          .code(result.newEvents.length > 0 ? 201 : 200)
          .header('cache-control', 'no-store')
          .send({
            reservation: customerReservation(result.state),
            ...pageAnswer(
              { kind: 'reservation', tenantId: tenant.tenantId, reservationId },
              result.state.reservation.end,
            ),
          });
      },
    );

    app.post(
      '/public/tenants/:tenantId/waitlist-entries',
      {
        ...publicRoute,
        schema: {
          operationId: 'joinWaitlistOnBookingPage',
          tags: ['booking page'],
          summary: 'Public: put the customer on the waitlist of a full slot; the answer links to their own page.',
          description:
            '409 slot-available when the slot has seats (book instead); waitlist-disabled, waitlist-closed, ' +
            'waitlist-full. Joining again gives the entry the customer has.',
          security: [],
          params: tenantParams,
          body: publicWaitlistJoinSchema,
          response: {
            201: json(publicWaitlistAnswerSchema, 'Joined.', { 'Cache-Control': true }),
            200: json(publicWaitlistAnswerSchema, 'Already on the list.', { 'Cache-Control': true }),
            ...problems(404, 409, 429),
          },
        },
      },
      async (request, reply) => {
        const tenant = await bookingTenant(request.params.tenantId);
        const body = request.body;
        const result = await joinWaitlist(
          deps.waitlist,
          { tenantId: tenant.tenantId, actor: BOOKING_PAGE_ACTOR, correlationId: request.id },
          {
            serviceId: body.serviceId,
            start: body.start,
            ...(body.partySize !== undefined ? { partySize: body.partySize } : {}),
            customer: {
              name: body.customer.name,
              locale: body.customer.locale,
              ...(body.customer.email ? { email: body.customer.email } : {}),
              ...(body.customer.phone ? { phone: body.customer.phone } : {}),
            },
          },
        );
        return reply
          .code(result.created ? 201 : 200)
          .header('cache-control', 'no-store')
          .send({
            waitlistEntry: customerEntry(result.state, result.entry),
            ...pageAnswer(
              {
                kind: 'waitlist-entry',
                tenantId: tenant.tenantId,
                waitlistId: result.waitlistId,
                entryId: result.entry.entryId,
              },
              result.state.slot.end,
            ),
          });
      },
    );

    // The customer's own page -----------------------------------------------------------------------------------------

    const invalidLink = () =>
      new HttpProblem(
        problem(401, 'customer-link-invalid', 'This link does not work.', {
          detail: 'The link is not valid or has run out. Please use the link in the newest message.',
        }),
      );

    interface Resolved {
      readonly subject: CustomerLinkSubject;
      readonly settings: SelfServiceSettings;
      readonly waitlist?: { state: OpenWaitlistState; entry: WaitlistEntry };
      /** The reservation: the link's, or the one the waitlist entry turned into. */
      readonly reservation?: { state: ExistingState; revision: bigint };
    }

    /** The link's subject, after the signature (cheap) and then its stream; 401 for any link that does not work. */
    const resolve = async (request: FastifyRequest): Promise<Resolved> => {
      const token = request.headers['x-customer-token'];
      const subject = typeof token === 'string' ? deps.customerLinks.verify(token, deps.clock.now()) : null;
      if (!subject) throw invalidLink();
      const { settings } = await loadSelfServiceSettings(deps, subject.tenantId);
      if (subject.kind === 'reservation') {
        try {
          const { state, revision } = await getReservation(deps.eventStore, subject.tenantId, subject.reservationId);
          return { subject, settings, reservation: { state, revision } };
        } catch (error) {
          if (error instanceof NotFoundError) throw invalidLink();
          throw error;
        }
      }
      const { state } = await loadWaitlist(deps.eventStore, subject.tenantId, subject.waitlistId);
      const entry = state.status === 'none' ? undefined : findEntry(state, subject.entryId);
      if (state.status === 'none' || !entry) throw invalidLink();
      const reservationId = entry.reservationId;
      const reservation = reservationId
        ? await getReservation(deps.eventStore, subject.tenantId, reservationId).catch(() => undefined)
        : undefined;
      return {
        subject,
        settings,
        waitlist: { state, entry },
        ...(reservation ? { reservation: { state: reservation.state, revision: reservation.revision } } : {}),
      };
    };

    const customerOf = (resolved: Resolved) =>
      resolved.reservation?.state.reservation.customer ?? resolved.waitlist?.entry.customer;

    const pageView = async (resolved: Resolved): Promise<z.infer<typeof customerPageSchema>> => {
      const { subject } = resolved;
      const tenant = await deps.tenancy.getTenant(subject.tenantId);
      const customer = customerOf(resolved);
      const customerRef = customer ? customerRefOf(deps.ids, subject.tenantId, customer) : undefined;
      const [reservationMessages, entryMessages, preferences] = await Promise.all([
        resolved.reservation
          ? listReservationNotifications(
              deps.readModels,
              subject.tenantId,
              resolved.reservation.state.reservation.reservationId,
            )
          : Promise.resolve([]),
        resolved.waitlist
          ? listWaitlistNotifications(deps.readModels, subject.tenantId, resolved.waitlist.entry.entryId)
          : Promise.resolve([]),
        customerRef ? readCustomerPreferences(deps.eventStore, subject.tenantId, customerRef) : Promise.resolve(null),
      ]);
      const seen = new Set<string>();
      const messages = [...entryMessages, ...reservationMessages]
        .filter((delivery) => delivery.recipientType === 'customer')
        .filter((delivery) => !seen.has(delivery.notificationId) && seen.add(delivery.notificationId))
        .sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0))
        .map((delivery) => ({
          kind: delivery.kind,
          channel: delivery.channel,
          status: delivery.status,
          requestedAt: delivery.requestedAt,
          sentAt: delivery.sentAt ?? null,
          deliveredAt: delivery.deliveredAt ?? null,
        }));
      const rules = resolved.reservation
        ? customerRules(resolved.settings, resolved.reservation.state, deps.clock.now())
        : { cancellation: null, reschedule: null };
      return {
        kind: subject.kind,
        tenant: { tenantId: tenant.tenantId, name: tenant.name },
        language: resolveLanguage(customer?.locale ?? tenant.defaultLocale),
        reservation: resolved.reservation ? customerReservation(resolved.reservation.state) : null,
        waitlistEntry: resolved.waitlist ? customerEntry(resolved.waitlist.state, resolved.waitlist.entry) : null,
        rules: { cancelUntil: rules.cancellation, rescheduleUntil: rules.reschedule },
        messages,
        preferences: preferences
          ? {
              blocked: { email: [...preferences.blocked.email], sms: [...preferences.blocked.sms] },
              smsOptedOut: preferences.smsOptedOut,
              blockableKinds: [...CUSTOMER_BLOCKABLE_KINDS],
            }
          : null,
        telegram: await telegramPart(subject.tenantId, customerRef, preferences?.telegramChatId !== undefined),
      };
    };

    /**
     * The Telegram part of the page: the tenant's own bot when it configured one (its botUsername), else the
     * environment's; the start link is signed for this customer and runs out within the hour.
     */
    const telegramPart = async (tenantId: string, customerRef: string | undefined, linked: boolean) => {
      const links = deps.telegram?.links;
      if (!links) return null;
      const { state } = await loadChannelConfiguration(deps.eventStore, tenantId);
      const own = state.channels.telegram;
      const username = own
        ? own.providers.find((p) => p.provider === 'telegram')?.settings.botUsername
        : deps.telegram?.environmentBot?.username;
      if (!username) return null;
      const token = customerRef
        ? links.startTokenFor(
            { tenantId, customerId: customerRef },
            own ? 'tenant' : 'environment',
            new Date(deps.clock.now().getTime() + TELEGRAM_LINK_MS).toISOString(),
          )
        : undefined;
      return { linked, startLink: token ? `https://t.me/${username}?start=${token}` : null };
    };

    const customerContext = (request: FastifyRequest, resolved: Resolved): CommandContext => ({
      tenantId: resolved.subject.tenantId,
      actor: CUSTOMER_PAGE_ACTOR,
      correlationId: request.id,
    });

    const requireReservation = (resolved: Resolved) => {
      if (!resolved.reservation) {
        throw new NotFoundError('no-reservation', 'This link is for a waitlist place that has no reservation yet.');
      }
      return resolved.reservation;
    };

    /** The link's reservation, when the tenant's rule still lets the customer make this change (409 naming it if not). */
    const changeableReservation = async (request: FastifyRequest, rule: 'cancellation' | 'reschedule') => {
      const resolved = await resolve(request);
      const reservation = requireReservation(resolved);
      requireAllowed(resolved.settings, reservation.state, rule, deps.clock.now());
      return { resolved, reservation };
    };

    const selfSchema = {
      tags: ['customer page'],
      // The token travels in X-Customer-Token (the customerToken security scheme); resolve() checks it.
      security: [{ customerToken: [] }],
    };
    const pageAnswerResponse = { 200: json(customerPageSchema, 'The customer’s page.', { 'Cache-Control': true }) };

    app.get(
      '/self',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'getCustomerPage',
          summary: 'The customer’s own page: their reservation or waitlist place, its messages, what they may do.',
          response: { ...pageAnswerResponse, ...problems(401, 429) },
        },
      },
      async (request, reply) => {
        const resolved = await resolve(request);
        return reply.header('cache-control', 'no-store').send(await pageView(resolved));
      },
    );

    app.post(
      '/self/cancel',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'cancelOwnReservation',
          summary: 'The customer cancels their reservation, within the tenant’s rules (409 naming the rule if not).',
          body: customerCancelSchema,
          response: { ...pageAnswerResponse, ...problems(401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const { resolved, reservation } = await changeableReservation(request, 'cancellation');
        await cancelReservation(
          booking,
          customerContext(request, resolved),
          reservation.state.reservation.reservationId,
          { by: 'customer', ...(request.body?.reason ? { reason: request.body.reason } : {}) },
          { expectedRevision: reservation.revision },
        );
        return reply.header('cache-control', 'no-store').send(await pageView(await resolve(request)));
      },
    );

    app.get(
      '/self/slots',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'listOwnRescheduleSlots',
          summary: 'Slots of the same service the customer may move their reservation to (at most 31 days at once).',
          querystring: customerSlotsQuery,
          response: {
            200: json(availabilitySchema, 'Slots with room for the party.'),
            ...problems(401, 404, 409, 429),
          },
        },
      },
      async (request) => {
        const { resolved, reservation } = await changeableReservation(request, 'reschedule');
        const r = reservation.state.reservation;
        const range = rangeChecked(request.query.from, request.query.to);
        const answer = await findAvailability(deps, resolved.subject.tenantId, {
          serviceId: r.serviceId!,
          ...range,
          partySize: r.partySize,
        });
        const now = deps.clock.now().getTime();
        // The slot it holds now is no place to move to.
        return {
          ...answer,
          slots: answer.slots.filter((slot) => slot.start !== r.start && Date.parse(slot.start) > now),
        };
      },
    );

    app.post(
      '/self/reschedule',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'rescheduleOwnReservation',
          summary: 'The customer moves their reservation to another slot of the service, within the tenant’s rules.',
          body: customerRescheduleSchema,
          response: { ...pageAnswerResponse, ...problems(401, 404, 409, 429) },
        },
      },
      async (request, reply) => {
        const { resolved, reservation } = await changeableReservation(request, 'reschedule');
        await rescheduleReservation(
          booking,
          customerContext(request, resolved),
          reservation.state.reservation.reservationId,
          { start: request.body.start, reason: 'moved by the customer' },
          { expectedRevision: reservation.revision },
        );
        return reply.header('cache-control', 'no-store').send(await pageView(await resolve(request)));
      },
    );

    app.get(
      '/self/calendar.ics',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'getOwnReservationCalendar',
          summary: 'The reservation as a calendar file (iCalendar, RFC 5545) to add to the customer’s calendar.',
          response: {
            200: {
              description: 'The calendar file.',
              headers: {
                'Content-Disposition': {
                  description: 'attachment, with the file name to save it under.',
                  required: true,
                  schema: { type: 'string', pattern: '^attachment; filename=' },
                },
                'Cache-Control': {
                  description: '"no-store".',
                  required: true,
                  schema: { type: 'string', enum: ['no-store'] },
                },
              },
              content: { 'text/calendar': { schema: z.string().describe('An iCalendar (RFC 5545) VCALENDAR.') } },
            },
            ...problems(401, 404, 429),
          },
        },
      },
      async (request, reply) => {
        const resolved = await resolve(request);
        const reservation = requireReservation(resolved);
        const r = reservation.state.reservation;
        const settings = await loadNotificationSettings(deps.eventStore, resolved.subject.tenantId);
        const cancelled = !['requested', 'confirmed', 'completed'].includes(reservation.state.status);
        const ics = buildIcs({
          method: cancelled ? 'CANCEL' : 'REQUEST',
          uid: reservationIcsUid(r.reservationId),
          sequence: Number(reservation.revision),
          start: r.start,
          end: r.end,
          summary: r.serviceName,
          location: [r.location.name, r.location.address].filter(Boolean).join(', '),
          description: r.serviceName,
          organizer: { name: settings.sender.name, email: settings.sender.address },
          attendee: { name: r.customer.name, email: r.customer.email ?? settings.sender.address },
          dtstamp: deps.clock.now().toISOString(),
        });
        return reply
          .header('content-type', 'text/calendar; charset=utf-8')
          .header('content-disposition', 'attachment; filename="reservation.ics"')
          .header('cache-control', 'no-store')
          .send(ics);
      },
    );

    app.put(
      '/self/preferences',
      {
        ...publicRoute,
        schema: {
          ...selfSchema,
          operationId: 'updateOwnMessagePreferences',
          summary: 'The customer blocks kinds of message per channel (or all SMS) for themselves.',
          body: customerPreferencesChangeSchema,
          response: { ...pageAnswerResponse, ...problems(401, 404, 429) },
        },
      },
      async (request, reply) => {
        const resolved = await resolve(request);
        const customer = customerOf(resolved);
        const customerRef = customer ? customerRefOf(deps.ids, resolved.subject.tenantId, customer) : undefined;
        if (!customerRef)
          throw new NotFoundError('no-customer', 'This booking has no customer to keep preferences for.');
        await changeCustomerPreferences(deps, customerContext(request, resolved), customerRef, {
          ...(request.body.blocked !== undefined ? { blocked: request.body.blocked } : {}),
          ...(request.body.smsOptedOut !== undefined ? { smsOptedOut: request.body.smsOptedOut } : {}),
        });
        return reply.header('cache-control', 'no-store').send(await pageView(resolved));
      },
    );

    const answerOffer = (verb: 'accept' | 'decline') =>
      app.post(
        `/self/offer/${verb}`,
        {
          ...publicRoute,
          schema: {
            ...selfSchema,
            operationId: verb === 'accept' ? 'acceptOwnWaitlistOffer' : 'declineOwnWaitlistOffer',
            summary:
              verb === 'accept'
                ? 'The customer takes the seat their waitlist place was offered.'
                : 'The customer lets the offered seat go to the next in line.',
            response: { ...pageAnswerResponse, ...problems(401, 404, 409, 429) },
          },
        },
        async (request, reply) => {
          const resolved = await resolve(request);
          const offer = resolved.waitlist?.entry.offer;
          if (!resolved.waitlist || !offer) {
            throw new NotFoundError('no-offer', 'There is no seat on offer for this waitlist place.');
          }
          const context = customerContext(request, resolved);
          const { waitlistId } = resolved.waitlist.state;
          if (verb === 'accept') await acceptOffer(deps.waitlist, context, waitlistId, offer.offerId, 'link');
          else await declineOffer(deps.waitlist, context, waitlistId, offer.offerId, 'link');
          return reply.header('cache-control', 'no-store').send(await pageView(await resolve(request)));
        },
      );
    answerOffer('accept');
    answerOffer('decline');
  };
}
