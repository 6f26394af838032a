import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { HttpDeps } from '../http-deps.js';
import { analyticsRoutes } from './analytics.routes.js';
import { availabilityRoutes } from './availability.routes.js';
import { bookingRoutes } from './booking.routes.js';
import { catalogRoutes } from './catalog.routes.js';
import { channelRoutes } from './channels.routes.js';
import { deliveriesRoutes } from './deliveries.routes.js';
import { reservationRoutes } from './reservations.routes.js';
import { settingsRoutes } from './settings.routes.js';
import { tenancyRoutes } from './tenancy.routes.js';
import { twilioWebhookRoutes } from './twilio-webhooks.routes.js';
import { waitlistRoutes } from './waitlist.routes.js';
import { workflowRoutes } from './workflows.routes.js';

/** Every versioned API route, mounted under /v1. */
export function apiRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(reservationRoutes(deps));
    await app.register(bookingRoutes(deps));
    await app.register(catalogRoutes(deps));
    await app.register(availabilityRoutes(deps));
    await app.register(settingsRoutes(deps));
    await app.register(deliveriesRoutes(deps));
    await app.register(twilioWebhookRoutes(deps));
    await app.register(analyticsRoutes(deps));
    await app.register(waitlistRoutes(deps));
    await app.register(workflowRoutes(deps));
    await app.register(tenancyRoutes(deps));
    await app.register(channelRoutes(deps));
  };
}
