import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  configureChannel,
  listChannels,
  removeChannelConfiguration,
  type ChannelView,
} from '../../../application/channels/channel-configuration.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { HttpProblem, problem } from '../problem.js';
import { channelConfigurationInputSchema, channelParams, channelViewSchema } from '../schemas/channels.js';
import { empty, json, problems } from '../schemas/common.js';

const view = (channel: ChannelView) => channel as unknown as z.infer<typeof channelViewSchema>;

/**
 * The tenant's own providers per channel (admin only). Credentials go in and never come out: responses name the
 * credentials a provider holds, events hold them sealed (AES-256-GCM), and nothing logs a request body.
 */
export function channelRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const channels = () => {
      if (!deps.channels) {
        throw new HttpProblem(problem(503, 'channels-unavailable', 'Channel configuration is not available here.'));
      }
      return deps.channels;
    };

    app.get(
      '/channels',
      {
        schema: {
          operationId: 'listChannels',
          tags: ['channels'],
          summary: 'Every channel and its providers: your own where you configured some, else the deployment’s.',
          response: {
            200: json(z.object({ items: z.array(channelViewSchema) }), 'The channels.'),
            ...problems(403),
          },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        return { items: (await listChannels(deps.eventStore, principal.tenantId, channels().environment)).map(view) };
      },
    );

    app.put(
      '/channels/:channel',
      {
        schema: {
          operationId: 'configureChannel',
          tags: ['channels'],
          summary: 'Use your own providers for a channel (first first, then failovers); credentials are encrypted.',
          params: channelParams,
          body: channelConfigurationInputSchema,
          response: { 200: json(channelViewSchema, 'The channel as configured now.'), ...problems(400, 403) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        const { cipher, environment } = channels();
        await configureChannel(
          { eventStore: deps.eventStore, ids: deps.ids, clock: deps.clock, cipher },
          commandContext(principal, request.id),
          request.params.channel,
          request.body.providers.map((p) => ({
            provider: p.provider,
            ...(p.settings ? { settings: p.settings } : {}),
            credentials: p.credentials,
          })),
        );
        const items = await listChannels(deps.eventStore, principal.tenantId, environment);
        return view(items.find((c) => c.channel === request.params.channel)!);
      },
    );

    app.delete(
      '/channels/:channel',
      {
        schema: {
          operationId: 'removeChannelConfiguration',
          tags: ['channels'],
          summary: 'Go back to the deployment’s providers for a channel (your credentials are no longer used).',
          params: channelParams,
          response: { 204: empty('Removed (or there was nothing to remove).'), ...problems(403) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        await removeChannelConfiguration(
          { eventStore: deps.eventStore, ids: deps.ids, clock: deps.clock, cipher: channels().cipher },
          commandContext(principal, request.id),
          request.params.channel,
        );
        return reply.code(204).send();
      },
    );
  };
}
