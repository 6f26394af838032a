import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  changeCustomerPreferences,
  changeNotificationSettings,
  lookupCustomers,
  readCredits,
  readCustomerPreferences,
  readNotificationSettings,
  setLowBalanceThreshold,
  topUpCredits,
  type PreferencesView,
  type Revision,
} from '../../../application/notifications/notification-admin.js';
import type { NotificationSettings } from '../../../domain/notification/index.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom } from '../conditional.js';
import { id, ifMatchHeaders, json, problems } from '../schemas/common.js';
import {
  creditsSchema,
  customerLookupQuerySchema,
  customerLookupSchema,
  notificationSettingsSchema,
  notificationSettingsViewSchema,
  preferencesChangeSchema,
  preferencesSchema,
  topUpSchema,
} from '../schemas/settings.js';

const topUpResultSchema = z
  .object({ topUpId: z.string(), balance: z.number().int() })
  .meta({ id: 'CreditTopUpResult' });

function withEtag(reply: FastifyReply, revision: Revision): FastifyReply {
  return revision === undefined ? reply : reply.header('etag', etagFor(revision));
}

function preferencesView(view: PreferencesView): z.infer<typeof preferencesSchema> {
  return {
    customerRef: view.customerRef,
    blocked: { email: [...view.blocked.email], sms: [...view.blocked.sms] },
    smsOptedOut: view.smsOptedOut,
    changedAt: view.changedAt,
    smsOptOutChangedAt: view.smsOptOutChangedAt,
  };
}

/**
 * Tenant notification settings, customer preferences and credits. Every change goes through a decider and is
 * recorded as an event; GETs read the stream, so the ETag (the stream revision) is exact. While a resource was
 * never written (defaults in force) it has no ETag; a PUT without If-Match is then unconditional.
 */
export function settingsRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/settings/notifications',
      {
        schema: {
          operationId: 'getNotificationSettings',
          tags: ['settings'],
          summary: "The tenant's notification settings (Herald's defaults until changed). ETag: the settings revision.",
          response: {
            200: json(notificationSettingsViewSchema, 'The settings; no ETag while the defaults are in force.', {
              ETag: false,
            }),
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { settings, revision } = await readNotificationSettings(deps.eventStore, principal.tenantId);
        return withEtag(reply, revision).send(settings as z.infer<typeof notificationSettingsViewSchema>);
      },
    );

    app.put(
      '/settings/notifications',
      {
        schema: {
          operationId: 'replaceNotificationSettings',
          tags: ['settings'],
          summary:
            'Replace the notification settings. If-Match with the ETag of a GET guards against lost updates (412).',
          description:
            'Channels and recipients per kind, reminder offsets, custom recipients, sender, footer, default locale, ' +
            'prices, custom messages ({{placeholders}} are checked against the fields of the kind) and admin contacts. ' +
            'An invalid document is a 400 naming each field, and nothing is recorded.',
          headers: ifMatchHeaders,
          body: notificationSettingsSchema,
          response: {
            200: json(notificationSettingsViewSchema, 'The settings now in force.', { ETag: false }),
            ...problems(403, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expected = expectedRevisionFrom(request);
        const { settings, revision } = await changeNotificationSettings(
          deps,
          commandContext(principal, request.id),
          request.body as NotificationSettings,
          expected,
        );
        return withEtag(reply, revision).send(settings as z.infer<typeof notificationSettingsViewSchema>);
      },
    );

    // Registered before /customers/:customerRef/... so "lookup" is never taken for a ref.
    app.get(
      '/customers/lookup',
      {
        schema: {
          operationId: 'lookupCustomers',
          tags: ['customers'],
          summary: 'The customer refs Herald keeps preferences under, for an email address or phone number.',
          description:
            "A customer ref is the booking system's customer id when reservations carry one (customer.id); " +
            'otherwise Herald derives it from the email address, else from the phone number. This lookup finds the refs ' +
            'of the customers with reservations at that address, and the ref derived from the address alone.',
          querystring: customerLookupQuerySchema,
          response: { 200: json(customerLookupSchema, 'The matching customer refs.'), ...problems(403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const { email, phone } = request.query;
        return lookupCustomers(
          deps.readModels,
          deps.ids,
          principal.tenantId,
          email !== undefined ? { email } : { phone: phone! },
        );
      },
    );

    const customerParams = z.object({ customerRef: id });

    app.get(
      '/customers/:customerRef/preferences',
      {
        schema: {
          operationId: 'getCustomerPreferences',
          tags: ['customers'],
          summary: "A customer's message preferences: blocked kinds per channel and the SMS opt-out.",
          params: customerParams,
          response: {
            200: json(preferencesSchema, 'The preferences; no ETag while nothing was ever recorded.', { ETag: false }),
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const view = await readCustomerPreferences(deps.eventStore, principal.tenantId, request.params.customerRef);
        return withEtag(reply, view.revision).send(preferencesView(view));
      },
    );

    app.put(
      '/customers/:customerRef/preferences',
      {
        schema: {
          operationId: 'updateCustomerPreferences',
          tags: ['customers'],
          summary: "Change a customer's preferences (blocked kinds per channel, SMS opt-out). If-Match supported.",
          params: customerParams,
          headers: ifMatchHeaders,
          body: preferencesChangeSchema,
          response: {
            200: json(preferencesSchema, 'The preferences now in force.', { ETag: false }),
            ...problems(403, 412),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff', 'integration');
        const view = await changeCustomerPreferences(
          deps,
          commandContext(principal, request.id),
          request.params.customerRef,
          {
            ...(request.body.blocked !== undefined ? { blocked: request.body.blocked } : {}),
            ...(request.body.smsOptedOut !== undefined ? { smsOptedOut: request.body.smsOptedOut } : {}),
          },
          expectedRevisionFrom(request),
        );
        return withEtag(reply, view.revision).send(preferencesView(view));
      },
    );

    app.get(
      '/credits',
      {
        schema: {
          operationId: 'getCredits',
          tags: ['credits'],
          summary: 'The credit balance, the price list and the latest charges, refunds and top-ups (newest first).',
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
          response: {
            200: json(creditsSchema, 'The balance; no ETag before the first charge or top-up.', { ETag: false }),
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const [credits, { settings }] = await Promise.all([
          readCredits(deps.eventStore, principal.tenantId, request.query.limit),
          readNotificationSettings(deps.eventStore, principal.tenantId),
        ]);
        return withEtag(reply, credits.revision).send({
          balance: credits.balance,
          prices: settings.prices,
          lowBalanceThreshold: credits.lowBalanceThreshold,
          lowBalance: credits.lowBalance,
          entries: credits.entries,
        });
      },
    );

    app.put(
      '/credits/low-balance-threshold',
      {
        schema: {
          operationId: 'setLowBalanceThreshold',
          tags: ['credits'],
          summary: 'Alert the admins (staff alert) once when the balance falls below this many credits; null: never.',
          description:
            'Recorded on the credits stream. The alert goes out once per crossing: the next one only after a top-up ' +
            'has brought the balance back to the threshold or above. Setting a threshold above the balance alerts now.',
          body: z.strictObject({ threshold: z.number().int().min(0).max(1_000_000_000).nullable() }),
          response: {
            200: json(
              z.object({
                lowBalanceThreshold: z.number().int().nullable(),
                balance: z.number().int(),
                lowBalance: z.boolean(),
              }),
              'The threshold and the balance now.',
            ),
            ...problems(400, 401, 403, 415),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        await setLowBalanceThreshold(deps, commandContext(principal, request.id), request.body.threshold);
        const credits = await readCredits(deps.eventStore, principal.tenantId, 1);
        return {
          lowBalanceThreshold: credits.lowBalanceThreshold,
          balance: credits.balance,
          lowBalance: credits.lowBalance,
        };
      },
    );

    app.post(
      '/credits/top-ups',
      {
        schema: {
          operationId: 'topUpCredits',
          tags: ['credits'],
          summary: 'Add credits. Idempotent by topUpId: 201 when recorded, 200 when it already was.',
          body: topUpSchema,
          response: {
            201: json(topUpResultSchema, 'Recorded.'),
            200: json(topUpResultSchema, 'This topUpId was already recorded (with the same amount).'),
            ...problems(403, 409),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const { balance, created } = await topUpCredits(deps, commandContext(principal, request.id), request.body);
        return reply.code(created ? 201 : 200).send({ topUpId: request.body.topUpId, balance });
      },
    );
  };
}
