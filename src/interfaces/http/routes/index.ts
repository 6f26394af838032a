import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { resolveReservationRef } from '../../../application/booking/reservation-codes.js';
import type { HttpDeps } from '../http-deps.js';
import { analyticsRoutes } from './analytics.routes.js';
import { availabilityRoutes } from './availability.routes.js';
import { bookingRoutes } from './booking.routes.js';
import { calendarRoutes } from './calendars.routes.js';
import { calendlyRoutes } from './calendly.routes.js';
import { catalogRoutes } from './catalog.routes.js';
import { channelRoutes } from './channels.routes.js';
import { customerRoutes } from './customers.routes.js';
import { messageRoutes } from './messages.routes.js';
import { serviceOccurrenceRoutes } from './service-occurrences.routes.js';
import { deliveriesRoutes } from './deliveries.routes.js';
import { reservationRoutes } from './reservations.routes.js';
import { settingsRoutes } from './settings.routes.js';
import { tenancyRoutes } from './tenancy.routes.js';
import { providerStatusWebhookRoutes } from './provider-status-webhooks.routes.js';
import { telegramWebhookRoutes } from './telegram-webhooks.routes.js';
import { twilioWebhookRoutes } from './twilio-webhooks.routes.js';
import { waitlistRoutes } from './waitlist.routes.js';
import { workflowRoutes } from './workflows.routes.js';
import { selfServiceRoutes } from './self-service.routes.js';
import { staffRoutes } from './staff.routes.js';
import { webhookRoutes } from './webhooks.routes.js';

/** Every versioned API route, mounted under /v1. */
export function apiRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    // Wherever a path names a reservation, its short code is accepted too: resolved through the event store.
    app.addHook('preHandler', async (request) => {
      const params = request.params as { reservationId?: unknown } | undefined;
      if (!request.principal || typeof params?.reservationId !== 'string') return;
      params.reservationId = await resolveReservationRef(
        deps.eventStore,
        request.principal.tenantId,
        params.reservationId,
      );
    });
    await app.register(reservationRoutes(deps));
    await app.register(bookingRoutes(deps));
    await app.register(catalogRoutes(deps));
    await app.register(calendarRoutes(deps));
    await app.register(availabilityRoutes(deps));
    await app.register(settingsRoutes(deps));
    await app.register(deliveriesRoutes(deps));
    await app.register(twilioWebhookRoutes(deps));
    await app.register(telegramWebhookRoutes(deps));
    await app.register(providerStatusWebhookRoutes(deps));
    await app.register(analyticsRoutes(deps));
    await app.register(waitlistRoutes(deps));
    await app.register(workflowRoutes(deps));
    await app.register(tenancyRoutes(deps));
    await app.register(staffRoutes(deps));
    await app.register(selfServiceRoutes(deps));
    await app.register(channelRoutes(deps));
    await app.register(customerRoutes(deps));
    await app.register(messageRoutes(deps));
    await app.register(serviceOccurrenceRoutes(deps));
    await app.register(calendlyRoutes(deps));
    await app.register(webhookRoutes(deps));
  };
}
