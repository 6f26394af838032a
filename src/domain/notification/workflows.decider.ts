import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { NotFoundError } from '../shared/errors.js';
import { parseInstant, requireText } from './validation.js';
import { validateWorkflow, type Workflow } from './workflows.js';

/**
 * The tenant's saved workflows: its own, and its edited versions of the ready-made ones (same id). One stream per
 * tenant (`settings-<tenant>+workflows`): a tenant has tens of workflows, and every message plan reads them all.
 */
export type WorkflowsState = {
  readonly saved: Readonly<Record<string, Workflow>>;
  /** Ids removed at least once: removing again is a no-op, not a 404. */
  readonly removed: readonly string[];
};

export type SaveWorkflow = Command<
  'SaveWorkflow',
  { readonly workflow: Workflow; readonly now: string; readonly actor: string }
>;
export type RemoveWorkflow = Command<
  'RemoveWorkflow',
  { readonly workflowId: string; readonly now: string; readonly actor: string }
>;
export type WorkflowsCommand = SaveWorkflow | RemoveWorkflow;

export type WorkflowSaved = DomainEvent<
  'WorkflowSaved',
  { readonly workflow: Workflow; readonly previous: Workflow | null; readonly savedAt: string; readonly actor: string }
>;
/** A saved workflow is gone: the tenant's own stops; an edited ready-made one is back to its default. */
export type WorkflowRemoved = DomainEvent<
  'WorkflowRemoved',
  { readonly workflowId: string; readonly previous: Workflow; readonly removedAt: string; readonly actor: string }
>;
export type WorkflowsEvent = WorkflowSaved | WorkflowRemoved;

export const WORKFLOW_EVENT_TYPES: readonly WorkflowsEvent['type'][] = ['WorkflowSaved', 'WorkflowRemoved'];

function same(a: Workflow, b: Workflow): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export const workflowsDecider: Decider<WorkflowsCommand, WorkflowsState, WorkflowsEvent> = {
  decide(command, state) {
    const at = command.data.now;
    parseInstant(at, 'now');
    const actor = requireText(command.data.actor, 'actor');
    switch (command.type) {
      case 'SaveWorkflow': {
        const workflow = validateWorkflow(command.data.workflow);
        const previous = state.saved[workflow.workflowId] ?? null;
        if (previous && same(previous, workflow)) return [];
        return [{ type: 'WorkflowSaved', data: { workflow, previous, savedAt: at, actor } }];
      }
      case 'RemoveWorkflow': {
        const previous = state.saved[command.data.workflowId];
        if (!previous) {
          if (state.removed.includes(command.data.workflowId)) return [];
          throw new NotFoundError('workflow-not-found', `Workflow ${command.data.workflowId} is not saved.`, {
            workflowId: command.data.workflowId,
          });
        }
        return [{ type: 'WorkflowRemoved', data: { workflowId: previous.workflowId, previous, removedAt: at, actor } }];
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'WorkflowSaved':
        return { ...state, saved: { ...state.saved, [event.data.workflow.workflowId]: event.data.workflow } };
      case 'WorkflowRemoved': {
        const { [event.data.workflowId]: _gone, ...rest } = state.saved;
        return { saved: rest, removed: [...new Set([...state.removed, event.data.workflowId])] };
      }
    }
  },
  initialState: () => ({ saved: {}, removed: [] }),
};
