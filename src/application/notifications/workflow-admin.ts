import { effectiveWorkflows, workflowsDecider, type Workflow } from '../../domain/notification/index.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import {
  handleCommand,
  loadAggregate,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import { loadNotificationSettings } from './notification-settings.js';
import { workflowsStreamName } from './notification-streams.js';

/** A workflow as the tenant sees it: in force now, and whether it is a ready-made one it edited. */
export type WorkflowView = Workflow & { readonly edited: boolean };

export interface WorkflowList {
  readonly items: readonly WorkflowView[];
  /** Revision of the tenant's saved workflows (undefined: none saved yet). */
  readonly revision: bigint | undefined;
}

/** Every workflow in force: the ready-made ones (edited or not) and the tenant's own. */
export async function listWorkflows(eventStore: EventStore, tenantId: string): Promise<WorkflowList> {
  const [settings, { state, revision }] = await Promise.all([
    loadNotificationSettings(eventStore, tenantId),
    loadAggregate(eventStore, workflowsStreamName(tenantId), workflowsDecider),
  ]);
  const saved = new Map(Object.entries(state.saved));
  return {
    items: effectiveWorkflows(settings, saved).map((w) => ({
      ...w,
      edited: w.origin === 'default' && saved.has(w.workflowId),
    })),
    revision: revision === 'no_stream' ? undefined : revision,
  };
}

export async function getWorkflow(eventStore: EventStore, tenantId: string, workflowId: string) {
  const { items, revision } = await listWorkflows(eventStore, tenantId);
  const workflow = items.find((w) => w.workflowId === workflowId);
  if (!workflow) {
    throw new NotFoundError('workflow-not-found', `Workflow ${workflowId} does not exist.`, { workflowId });
  }
  return { workflow, revision };
}

/**
 * Saves a workflow: a new one of the tenant's, or its version of a ready-made one (same id; `origin` stays
 * `default`, so the settings API no longer changes it). Saving the same workflow again changes nothing.
 */
export async function saveWorkflow(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  workflow: Omit<Workflow, 'origin'>,
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<WorkflowView> {
  const { items } = await listWorkflows(deps.eventStore, context.tenantId);
  const existing = items.find((w) => w.workflowId === workflow.workflowId);
  const origin = existing?.origin ?? 'custom';
  await handleCommand(
    deps,
    workflowsStreamName(context.tenantId),
    workflowsDecider,
    {
      type: 'SaveWorkflow',
      data: { workflow: { ...workflow, origin }, now: deps.clock.now().toISOString(), actor: context.actor },
    },
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
  return (await getWorkflow(deps.eventStore, context.tenantId, workflow.workflowId)).workflow;
}

/** Removes a saved workflow: the tenant's own stops; an edited ready-made one is back to what the settings say. */
export async function removeWorkflow(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  workflowId: string,
  options: { expectedRevision?: ExpectedRevision } = {},
): Promise<void> {
  await handleCommand(
    deps,
    workflowsStreamName(context.tenantId),
    workflowsDecider,
    { type: 'RemoveWorkflow', data: { workflowId, now: deps.clock.now().toISOString(), actor: context.actor } },
    context,
    options.expectedRevision !== undefined ? { expectedRevision: options.expectedRevision } : {},
  );
}
