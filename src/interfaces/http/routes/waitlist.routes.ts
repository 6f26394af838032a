import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  getWaitlistHistory,
  listWaitlistNotifications,
  listWaitlists,
} from '../../../application/waitlist/waitlist-queries.js';
import {
  acceptOffer,
  allocateWaitlist,
  changeEntry,
  changeWaitlistSettings,
  declineOffer,
  joinWaitlist,
  loadWaitlistSettings,
  requireWaitlist,
} from '../../../application/waitlist/waitlist-commands.js';
import type { WaitlistSettings } from '../../../domain/waitlist/waitlist-settings.js';
import {
  findEntry,
  positionOf,
  waitingInOrder,
  type OpenWaitlistState,
  type WaitlistEntry,
} from '../../../domain/waitlist/waitlist.decider.js';
import { NotFoundError } from '../../../domain/shared/errors.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom, writeOptionsFrom } from '../conditional.js';
import { historySchema } from '../schemas/booking.js';
import { asOfOf, asOfQuery, id, ifMatchHeaders, json, problems } from '../schemas/common.js';
import { deliverySchema, reservationSchema } from '../schemas/reservations.js';
import {
  allocationOutcomeSchema,
  answerOfferSchema,
  outcomeView,
  joinWaitlistSchema,
  overrideSchema,
  reasonRequiredSchema,
  urgentAllocationSchema,
  waitlistEntrySchema,
  waitlistListQuery,
  waitlistSchema,
  waitlistSettingsSchema,
  waitlistSummarySchema,
} from '../schemas/waitlist.js';
import { reservationView } from './booking.routes.js';

type EntryView = z.infer<typeof waitlistEntrySchema>;

const waitlistHistorySchema = historySchema
  .omit({ reservationId: true })
  .extend({ waitlistId: z.string() })
  .meta({ id: 'WaitlistHistory' });

export function entryView(state: OpenWaitlistState, entry: WaitlistEntry): EntryView {
  return {
    waitlistId: state.waitlistId,
    entryId: entry.entryId,
    status: entry.status,
    position: positionOf(state, entry.entryId),
    customer: { ...entry.customer },
    partySize: entry.partySize,
    resourceId: entry.resourceId,
    channels: [...entry.channels],
    joinedAt: entry.joinedAt,
    offer: entry.offer
      ? {
          offerId: entry.offer.offerId,
          mode: entry.offer.mode,
          status: entry.offer.status,
          reservationId: entry.offer.reservationId,
          resourceId: entry.offer.resourceId,
          seats: entry.offer.seats,
          madeAt: entry.offer.madeAt,
          expiresAt: entry.offer.expiresAt,
        }
      : null,
    reservationId: entry.reservationId,
    slot: { ...state.slot, location: { ...state.slot.location } },
  };
}

function waitlistView(state: OpenWaitlistState, revision: bigint): z.infer<typeof waitlistSchema> {
  const line = waitingInOrder(state);
  const others = state.entries.filter((entry) => entry.status !== 'waiting');
  return {
    waitlistId: state.waitlistId,
    status: state.status,
    slot: { ...state.slot, location: { ...state.slot.location } },
    waiting: line.length,
    revision: Number(revision),
    entries: [...line, ...others].map((entry) => entryView(state, entry)),
  };
}

function requireEntry(state: OpenWaitlistState, entryId: string): WaitlistEntry {
  const entry = findEntry(state, entryId);
  if (!entry)
    throw new NotFoundError('waitlist-entry-not-found', `Waitlist entry ${entryId} does not exist.`, { entryId });
  return entry;
}

const waitlistParams = z.object({ waitlistId: id });
const entryParams = z.object({ waitlistId: id, entryId: id });
const offerParams = z.object({ waitlistId: id, offerId: z.string().regex(/^[A-Za-z0-9._:-]{1,140}$/) });
const allRoles = ['admin', 'staff', 'integration'] as const;

/**
 * Waitlists (issue 7): join a full slot, see one's place, leave; staff see each list and override its order;
 * customers' answers to offers through the API (the claim page and SMS replies are public routes of their own).
 */
export function waitlistRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  const waitlist = deps.waitlist;
  return async (app) => {
    app.post(
      '/waitlists/entries',
      {
        schema: {
          operationId: 'joinWaitlist',
          tags: ['waitlists'],
          summary:
            'Join the waitlist of a full slot. 201 joined (the customer is told their place); 200 already on it.',
          description:
            'The order is the order of joining. 409 slot-available (with the booking to send instead) when the slot has ' +
            'seats for the party and nobody waits; waitlist-disabled, waitlist-closed (past the cut-off), waitlist-full.',
          body: joinWaitlistSchema,
          response: {
            201: json(waitlistEntrySchema, 'Joined: the customer is told their place.', { ETag: true, Location: true }),
            200: json(waitlistEntrySchema, 'Already on the list: the entry they have.', { ETag: true, Location: true }),
            ...problems(403, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const result = await joinWaitlist(waitlist, commandContext(principal, request.id), request.body);
        return reply
          .code(result.created ? 201 : 200)
          .header('location', `/v1/waitlists/${result.waitlistId}/entries/${result.entry.entryId}`)
          .header('etag', etagFor(result.revision))
          .send(entryView(result.state, result.entry));
      },
    );

    app.get(
      '/waitlists',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'listWaitlists',
          summary: 'Waitlists by service, status and start range, soonest first.',
          querystring: waitlistListQuery,
          response: {
            200: json(z.object({ items: z.array(waitlistSummarySchema) }), 'The waitlists, soonest slot first.'),
            ...problems(403),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        return { items: await listWaitlists(deps.readModels, principal.tenantId, request.query) };
      },
    );

    app.get(
      '/waitlists/:waitlistId',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'getWaitlist',
          summary:
            'One waitlist: its slot and every entry, waiting ones in line order with their place (as of a revision or an instant with asOf).',
          params: waitlistParams,
          querystring: asOfQuery,
          response: { 200: json(waitlistSchema, 'The waitlist.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { state, revision } = await requireWaitlist(
          deps.eventStore,
          principal.tenantId,
          request.params.waitlistId,
          asOfOf(request.query),
        );
        return reply.header('etag', etagFor(revision)).send(waitlistView(state, revision));
      },
    );

    app.get(
      '/waitlists/:waitlistId/history',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'getWaitlistHistory',
          summary:
            'Every event of the waitlist, oldest first, with who did it (overrides carry actor and reason); up to asOf, when given.',
          params: waitlistParams,
          querystring: asOfQuery,
          response: {
            200: json(waitlistHistorySchema, 'The events, oldest first.', { ETag: true }),
            ...problems(403, 404),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { revision, events } = await getWaitlistHistory(
          deps.eventStore,
          principal.tenantId,
          request.params.waitlistId,
          asOfOf(request.query),
        );
        return reply
          .header('etag', etagFor(revision))
          .send({ waitlistId: request.params.waitlistId, revision: Number(revision), events });
      },
    );

    app.get(
      '/waitlists/:waitlistId/entries/:entryId',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'getWaitlistEntry',
          summary:
            'One entry: its status, place in line and latest offer; with asOf, as it was at a revision of its waitlist or an instant.',
          params: entryParams,
          querystring: asOfQuery,
          response: { 200: json(waitlistEntrySchema, 'The entry.', { ETag: true }), ...problems(403, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const { state, revision } = await requireWaitlist(
          deps.eventStore,
          principal.tenantId,
          request.params.waitlistId,
          asOfOf(request.query),
        );
        const entry = requireEntry(state, request.params.entryId);
        return reply.header('etag', etagFor(revision)).send(entryView(state, entry));
      },
    );

    app.get(
      '/waitlists/:waitlistId/entries/:entryId/notifications',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'listWaitlistEntryNotifications',
          summary: 'Every message about this entry (joined, offers, expiry), with its status history.',
          params: entryParams,
          response: {
            200: json(z.object({ items: z.array(deliverySchema) }), 'The deliveries, oldest first.'),
            ...problems(403, 404),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, ...allRoles);
        const { state } = await requireWaitlist(deps.eventStore, principal.tenantId, request.params.waitlistId);
        requireEntry(state, request.params.entryId);
        return {
          items: await listWaitlistNotifications(deps.readModels, principal.tenantId, request.params.entryId),
        };
      },
    );

    app.delete(
      '/waitlists/:waitlistId/entries/:entryId',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'leaveWaitlist',
          summary: 'The customer leaves the waitlist (an open offer is withdrawn and goes to the next in line).',
          params: entryParams,
          headers: ifMatchHeaders,
          response: {
            200: json(waitlistEntrySchema, 'The entry, now left.', { ETag: true }),
            ...problems(403, 404, 409, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const { waitlistId, entryId } = request.params;
        const result = await changeEntry(
          waitlist,
          commandContext(principal, request.id),
          waitlistId,
          entryId,
          { kind: 'leave' },
          writeOptionsFrom(request),
        );
        const state = result.state as OpenWaitlistState;
        if (result.revision !== 'no_stream') reply.header('etag', etagFor(result.revision));
        return reply.send(entryView(state, requireEntry(state, entryId)));
      },
    );

    const adminEntryAction = (action: 'skip' | 'remove', operationId: string, summary: string) =>
      app.post(
        `/waitlists/:waitlistId/entries/:entryId/${action}`,
        {
          schema: {
            operationId,
            tags: ['waitlists'],
            summary,
            params: entryParams,
            headers: ifMatchHeaders,
            body: reasonRequiredSchema,
            response: {
              200: json(waitlistEntrySchema, 'The entry as it is now.', { ETag: true }),
              ...problems(403, 404, 409, 412),
            },
          },
        },
        async (request, reply) => {
          const principal = requireRole(request, 'admin', 'staff');
          const { waitlistId, entryId } = request.params;
          const result = await changeEntry(
            waitlist,
            commandContext(principal, request.id),
            waitlistId,
            entryId,
            { kind: action, reason: request.body.reason },
            writeOptionsFrom(request),
          );
          const state = result.state as OpenWaitlistState;
          if (result.revision !== 'no_stream') reply.header('etag', etagFor(result.revision));
          return reply.send(entryView(state, requireEntry(state, entryId)));
        },
      );
    adminEntryAction(
      'skip',
      'skipWaitlistEntry',
      'Staff pass an entry over: it goes to the end of the line, its open offer is withdrawn.',
    );
    adminEntryAction('remove', 'removeWaitlistEntry', 'Staff remove an entry from the waitlist, with a reason.');

    app.post(
      '/waitlists/:waitlistId/entries/:entryId/offer',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'offerWaitlistSeat',
          summary: 'Admin override: give or offer a free seat to this entry now, out of order (a reason is required).',
          description: '409 no-free-seat when no resource has free seats for the party.',
          params: entryParams,
          body: overrideSchema,
          response: { 200: json(allocationOutcomeSchema, 'What the entry got.'), ...problems(403, 404, 409) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        const context = commandContext(principal, request.id);
        return outcomeView(
          await allocateWaitlist(waitlist, context, request.params.waitlistId, {
            entryId: request.params.entryId,
            override: { by: context.actor, reason: request.body.reason },
            urgent: true,
            ...(request.body.mode ? { mode: request.body.mode } : {}),
          }),
        );
      },
    );

    app.post(
      '/waitlists/:waitlistId/allocate',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'allocateWaitlist',
          summary: 'Admin: allocate free seats to the line now, ignoring the cut-off and a switched-off waitlist.',
          params: waitlistParams,
          body: urgentAllocationSchema,
          response: { 200: json(allocationOutcomeSchema, 'Who got seats.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        const context = commandContext(principal, request.id);
        await requireWaitlist(deps.eventStore, principal.tenantId, request.params.waitlistId);
        return outcomeView(
          await allocateWaitlist(waitlist, context, request.params.waitlistId, {
            override: { by: context.actor, reason: request.body.reason },
            urgent: true,
          }),
        );
      },
    );

    app.post(
      '/waitlists/:waitlistId/offers/:offerId/accept',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'acceptWaitlistOffer',
          summary: 'The customer takes the offered seat: the reservation (id = offer id) is booked and confirmed.',
          description:
            '409 offer-expired after the response window (also when the expiry wins a race with the answer), ' +
            'offer-not-open when declined or withdrawn. Accepting twice answers with the same reservation.',
          params: offerParams,
          body: answerOfferSchema.nullish(),
          response: {
            200: json(reservationSchema, 'The reservation the offer became.', { ETag: true, Location: true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const { reservation } = await acceptOffer(
          waitlist,
          commandContext(principal, request.id),
          request.params.waitlistId,
          request.params.offerId,
          request.body?.via ?? 'api',
        );
        if (reservation.revision === 'no_stream') throw new Error('reservation not recorded');
        return reply
          .header('location', `/v1/reservations/${reservation.reservationId}`)
          .header('etag', etagFor(reservation.revision))
          .send(reservationView(reservation.state, reservation.revision));
      },
    );

    app.post(
      '/waitlists/:waitlistId/offers/:offerId/decline',
      {
        schema: {
          tags: ['waitlists'],
          operationId: 'declineWaitlistOffer',
          summary: 'The customer lets the offered seat go: it is offered to the next in line.',
          params: offerParams,
          body: answerOfferSchema.nullish(),
          response: {
            200: json(waitlistEntrySchema, 'The entry, now declined.', { ETag: true }),
            ...problems(403, 404, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, ...allRoles);
        const result = await declineOffer(
          waitlist,
          commandContext(principal, request.id),
          request.params.waitlistId,
          request.params.offerId,
          request.body?.via ?? 'api',
        );
        const state = result.state as OpenWaitlistState;
        const entry = state.entries.find((e) => e.offer?.offerId === request.params.offerId);
        if (!entry) throw new Error('declined offer not found');
        if (result.revision !== 'no_stream') reply.header('etag', etagFor(result.revision));
        return reply.send(entryView(state, entry));
      },
    );

    app.get(
      '/settings/waitlist',
      {
        schema: {
          operationId: 'getWaitlistSettings',
          tags: ['settings'],
          summary:
            'The waitlist policy: on/off, offer or assign, response window, cap, cut-off; per-service overrides.',
          response: { 200: json(waitlistSettingsSchema, 'The policy in force.', { ETag: false }), ...problems(403) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { settings, revision } = await loadWaitlistSettings(deps.eventStore, principal.tenantId);
        if (revision !== undefined) reply.header('etag', etagFor(revision));
        return reply.send(settings as z.infer<typeof waitlistSettingsSchema>);
      },
    );

    app.put(
      '/settings/waitlist',
      {
        schema: {
          operationId: 'replaceWaitlistSettings',
          tags: ['settings'],
          summary:
            'Replace the waitlist policy. Switching it off keeps every entry; switching it on resumes allocation.',
          headers: ifMatchHeaders,
          body: waitlistSettingsSchema,
          response: {
            200: json(waitlistSettingsSchema, 'The policy now in force.', { ETag: false }),
            ...problems(403, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expected = expectedRevisionFrom(request);
        const { settings, revision } = await changeWaitlistSettings(
          deps,
          commandContext(principal, request.id),
          { ...request.body, services: request.body.services ?? {} } as WaitlistSettings,
          expected,
        );
        if (revision !== undefined) reply.header('etag', etagFor(revision));
        return reply.send(settings as z.infer<typeof waitlistSettingsSchema>);
      },
    );
  };
}
