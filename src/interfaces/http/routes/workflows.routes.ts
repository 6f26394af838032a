import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  getWorkflow,
  listWorkflows,
  removeWorkflow,
  saveWorkflow,
  type WorkflowView,
} from '../../../application/notifications/workflow-admin.js';
import type { Workflow } from '../../../domain/notification/index.js';
import { commandContext, requireRole } from '../auth.js';
import type { HttpDeps } from '../http-deps.js';
import { etagFor, expectedRevisionFrom } from '../conditional.js';
import { empty, ifMatchHeaders, json, problems } from '../schemas/common.js';
import { workflowInputSchema, workflowParams, workflowSchema } from '../schemas/workflows.js';

type Input = z.infer<typeof workflowInputSchema>;

function toWorkflow(workflowId: string, input: Input): Omit<Workflow, 'origin'> {
  return {
    workflowId,
    name: input.name,
    enabled: input.enabled,
    trigger: input.trigger,
    scope: {
      serviceIds: input.scope?.serviceIds ?? [],
      locationIds: input.scope?.locationIds ?? [],
      resourceIds: input.scope?.resourceIds ?? [],
      payment: input.scope?.payment ?? 'any',
    },
    channel: input.channel,
    message: input.message as Workflow['message'],
    recipients: {
      customer: input.recipients.customer ?? false,
      resourceStaff: input.recipients.resourceStaff ?? false,
      admins: input.recipients.admins ?? false,
      addresses: input.recipients.addresses ?? [],
    },
  };
}

const view = (workflow: WorkflowView) => workflow as unknown as z.infer<typeof workflowSchema>;

/**
 * Workflows (issue 9): the ready-made ones derived from the notification settings, and the tenant's own. Editing a
 * ready-made one saves the tenant's version under the same id; deleting that version brings the default back.
 */
export function workflowRoutes(deps: HttpDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/workflows',
      {
        schema: {
          operationId: 'listWorkflows',
          tags: ['workflows'],
          summary: 'Every workflow in force: the ready-made ones (from the notification settings) and your own.',
          response: {
            200: json(z.object({ items: z.array(workflowSchema) }), 'The workflows in force.', { ETag: false }),
            ...problems(403),
          },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin', 'staff');
        const { items, revision } = await listWorkflows(deps.eventStore, principal.tenantId);
        if (revision !== undefined) reply.header('etag', etagFor(revision));
        return reply.send({ items: items.map(view) });
      },
    );

    app.post(
      '/workflows',
      {
        schema: {
          operationId: 'createWorkflow',
          tags: ['workflows'],
          summary: 'Create a workflow: a trigger, a scope, a channel, a message and its recipients.',
          body: workflowInputSchema,
          response: { 201: json(workflowSchema, 'Created.', { Location: true }), ...problems(403, 409) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const workflowId = `wf-${deps.ids.newId()}`;
        const saved = await saveWorkflow(
          deps,
          commandContext(principal, request.id),
          toWorkflow(workflowId, request.body),
        );
        return reply.code(201).header('location', `/v1/workflows/${workflowId}`).send(view(saved));
      },
    );

    app.get(
      '/workflows/:workflowId',
      {
        schema: {
          operationId: 'getWorkflow',
          tags: ['workflows'],
          params: workflowParams,
          response: { 200: json(workflowSchema, 'The workflow.'), ...problems(403, 404) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin', 'staff');
        return view((await getWorkflow(deps.eventStore, principal.tenantId, request.params.workflowId)).workflow);
      },
    );

    app.put(
      '/workflows/:workflowId',
      {
        schema: {
          operationId: 'replaceWorkflow',
          tags: ['workflows'],
          summary: 'Change a workflow (a ready-made one too: your version replaces it). If-Match guards lost updates.',
          params: workflowParams,
          headers: ifMatchHeaders,
          body: workflowInputSchema,
          response: { 200: json(workflowSchema, 'The workflow now in force.'), ...problems(403, 404, 412) },
        },
      },
      async (request) => {
        const principal = requireRole(request, 'admin');
        // Only existing workflows are replaced; new ones are created with POST (their id is Herald's).
        await getWorkflow(deps.eventStore, principal.tenantId, request.params.workflowId);
        const expected = expectedRevisionFrom(request);
        return view(
          await saveWorkflow(
            deps,
            commandContext(principal, request.id),
            toWorkflow(request.params.workflowId, request.body),
            expected !== undefined ? { expectedRevision: expected } : {},
          ),
        );
      },
    );

    app.delete(
      '/workflows/:workflowId',
      {
        schema: {
          operationId: 'deleteWorkflow',
          tags: ['workflows'],
          summary: 'Delete your workflow, or your version of a ready-made one (the default comes back).',
          params: workflowParams,
          headers: ifMatchHeaders,
          response: { 204: empty('Deleted.'), ...problems(403, 404, 412) },
        },
      },
      async (request, reply) => {
        const principal = requireRole(request, 'admin');
        const expected = expectedRevisionFrom(request);
        await removeWorkflow(
          deps,
          commandContext(principal, request.id),
          request.params.workflowId,
          expected !== undefined ? { expectedRevision: expected } : {},
        );
        return reply.code(204).send();
      },
    );
  };
}
