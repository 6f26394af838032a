import type { CommandContext } from '../command-handler.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { Scheduler } from '../ports/scheduler.port.js';
import type { EventConsumer } from '../subscriptions/checkpointed-subscriber.js';
import type { Intent, ProcessManager } from './process-manager.js';

export type CommandIntent = Extract<Intent, { kind: 'command' }>;

/** Executes the command intents of one target (`waitlist`, `delivery`, ...); must be idempotent. */
export type IntentHandler = (intent: CommandIntent, context: CommandContext) => Promise<void>;

export interface ProcessManagerRunnerDeps {
  readonly scheduler: Pick<Scheduler, 'schedule' | 'cancel'>;
  /** Command handlers by intent target. */
  readonly handlers: Readonly<Record<string, IntentHandler>>;
  readonly logger?: Logger;
}

/** Who acts for a process manager, and what caused it: the same for every intent of one event. */
export function processContext(managerName: string, tenantId: string, cause: { id: string; correlationId?: unknown }) {
  return {
    tenantId,
    actor: `system:${managerName}`,
    causationId: cause.id,
    correlationId: typeof cause.correlationId === 'string' ? cause.correlationId : cause.id,
  } satisfies CommandContext;
}

/**
 * Runs intents in order. Each is idempotent (commands by their deciders, schedules by their unique keys), so a
 * redelivered event runs them again harmlessly; a failure throws and the subscriber redelivers the event.
 */
export async function executeIntents(
  deps: ProcessManagerRunnerDeps,
  intents: readonly Intent[],
  context: (tenantId: string) => CommandContext,
): Promise<void> {
  for (const intent of intents) {
    switch (intent.kind) {
      case 'schedule':
        await deps.scheduler.schedule(intent.job);
        break;
      case 'cancel-schedule':
        await deps.scheduler.cancel(intent.key);
        break;
      case 'command': {
        const handler = deps.handlers[intent.target];
        if (!handler) throw new Error(`no handler for intents of target ${intent.target}`);
        await handler(intent, context(intent.tenantId));
        break;
      }
    }
  }
}

/**
 * The one process-manager shape: `react(event) -> intents`, executed here, checkpointed by the subscriber. The
 * process manager reads what it needs and decides; this runner is the only place that acts on its decisions.
 */
export function processManagerConsumer(
  manager: ProcessManager & { readonly concurrency?: number },
  deps: ProcessManagerRunnerDeps,
): EventConsumer {
  return {
    name: `process:${manager.name}`,
    eventTypes: new Set(manager.eventTypes),
    ...(manager.concurrency !== undefined ? { concurrency: manager.concurrency } : {}),
    async handle(event: RecordedEvent) {
      const intents = await manager.react(event);
      await executeIntents(deps, intents, (tenantId) =>
        processContext(manager.name, tenantId, { id: event.id, correlationId: event.metadata.correlationId }),
      );
    },
  };
}
