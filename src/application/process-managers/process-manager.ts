import type { Command } from '../../domain/shared/decider.js';
import type { RecordedEvent } from '../ports/event-store.port.js';
import type { ScheduledJob } from '../ports/scheduler.port.js';

/**
 * What a process manager wants to happen. Intents are executed by the runner; each is idempotent:
 * commands because deciders ignore an outcome already recorded, schedules because jobs have unique keys.
 */
export type Intent =
  | {
      readonly kind: 'command';
      /** Which command handler takes it, e.g. `notification`, `reservation`, `waitlist`. */
      readonly target: string;
      readonly tenantId: string;
      readonly aggregateId: string;
      readonly command: Command;
      /** Events caused by this intent get ids derived from this key, so a replay appends nothing new. */
      readonly idempotencyKey: string;
    }
  | { readonly kind: 'schedule'; readonly job: ScheduledJob }
  | { readonly kind: 'cancel-schedule'; readonly key: string };

/**
 * `react` decides intents from an event (and whatever read-only state it was given). The runner stores a
 * checkpoint after executing them; a redelivered event re-executes intents that are no-ops by construction.
 */
export interface ProcessManager {
  readonly name: string;
  readonly eventTypes: readonly string[];
  react(event: RecordedEvent): Promise<readonly Intent[]>;
}
