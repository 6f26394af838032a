import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { changeCustomerTags, getCustomer, listCustomers } from '../../../application/customers/customers.js';
import type { CustomerDocument } from '../../../application/projections/customers.projection.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom } from '../conditional.js';
import { id, ifMatchHeaders, json, problems } from '../schemas/common.js';
import {
  customerListQuery,
  customerPageSchema,
  customerProfileSchema,
  customerTagsSchema,
  customerTagsViewSchema,
} from '../schemas/customers.js';

export function customerView(doc: CustomerDocument): z.infer<typeof customerProfileSchema> {
  return {
    customerRef: doc.customerRef,
    customerId: doc.customerId,
    name: doc.name,
    email: doc.email,
    phone: doc.phone,
    locale: doc.locale,
    tags: [...doc.tags],
    preferences: {
      blocked: { email: [...doc.blocked.email], sms: [...doc.blocked.sms] },
      smsOptedOut: doc.smsOptedOut,
    },
    reservationCount: doc.reservationCount,
    lastVisitAt: doc.lastVisitAt,
    reservations: doc.reservations.map((line) => ({ ...line })),
    updatedAt: doc.updatedAt,
  };
}

/** The customers staff search, filter and write to (the customers read model), and their tags. */
export function customerRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/customers',
      {
        schema: {
          operationId: 'listCustomers',
          tags: ['customers'],
          summary: 'Customers by name, email, phone, tag, last visit and number of reservations; cursor pages.',
          description:
            'Built from the reservations (the contact of the latest one) and the customer streams (preferences, ' +
            'tags). Sorted by name. Several words in `query` must all match a customer.',
          querystring: customerListQuery,
          response: {
            200: json(customerPageSchema, 'A page of customers matching the filter.'),
            ...problems(400, 401, 403),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { cursor, limit, ...filter } = request.query;
        const page = await listCustomers(deps.readModels, principal.tenantId, filter, {
          ...(cursor ? { cursor } : {}),
          ...(limit ? { limit } : {}),
        });
        return { items: page.items.map(customerView), nextCursor: page.nextCursor };
      },
    );

    const params = z.object({ customerRef: id });

    app.get(
      '/customers/:customerRef',
      {
        schema: {
          operationId: 'getCustomer',
          tags: ['customers'],
          summary: 'One customer: contact, preferences, tags and reservations (404 when Herald knows nothing of them).',
          params,
          response: { 200: json(customerProfileSchema, 'The customer.'), ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        return customerView(await getCustomer(deps.readModels, principal.tenantId, request.params.customerRef));
      },
    );

    app.put(
      '/customers/:customerRef/tags',
      {
        schema: {
          operationId: 'setCustomerTags',
          tags: ['customers'],
          summary: "Replace a customer's tags (CustomerTagsChanged). If-Match: the ETag of the customer's stream.",
          params,
          headers: ifMatchHeaders,
          body: customerTagsSchema,
          response: {
            200: json(customerTagsViewSchema, "The customer's tags now.", { ETag: false }),
            ...problems(400, 401, 403, 412, 415),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const result = await changeCustomerTags(
          deps,
          commandContext(principal, request.id),
          request.params.customerRef,
          request.body.tags,
          expectedRevisionFrom(request),
        );
        if (result.revision !== undefined) reply.header('etag', etagFor(result.revision));
        return { customerRef: request.params.customerRef, tags: [...result.tags] };
      },
    );
  };
}
