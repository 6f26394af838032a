import {
  selfServiceDeadline,
  selfServiceSettingsDecider,
  selfServiceSettingsOf,
  selfServiceSettingsStreamName,
  type SelfServiceSettings,
} from '../../domain/self-service/self-service-settings.js';
import { IllegalStateError } from '../../domain/shared/errors.js';
import type { ExistingState } from '../../domain/booking/reservation.decider.js';
import {
  handleCommand,
  loadAggregate,
  type CommandContext,
  type CommandHandlerDeps,
  type ExpectedRevision,
} from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';

export async function loadSelfServiceSettings(
  deps: CommandHandlerDeps,
  tenantId: string,
): Promise<{ settings: SelfServiceSettings; revision: bigint | undefined }> {
  const { state, revision } = await loadAggregate(
    deps.eventStore,
    selfServiceSettingsStreamName(tenantId),
    selfServiceSettingsDecider,
  );
  return { settings: selfServiceSettingsOf(state), revision: revision === 'no_stream' ? undefined : revision };
}

export async function changeSelfServiceSettings(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  settings: SelfServiceSettings,
  expectedRevision?: ExpectedRevision,
): Promise<{ settings: SelfServiceSettings; revision: bigint | undefined }> {
  const result = await handleCommand(
    deps,
    selfServiceSettingsStreamName(context.tenantId),
    selfServiceSettingsDecider,
    {
      type: 'ChangeSelfServiceSettings',
      data: { tenantId: context.tenantId, settings, now: deps.clock.now().toISOString(), actor: context.actor },
    },
    context,
    expectedRevision !== undefined ? { expectedRevision } : {},
  );
  return {
    settings: selfServiceSettingsOf(result.state),
    revision: result.revision === 'no_stream' ? undefined : result.revision,
  };
}

export type SelfServiceAction = 'cancellation' | 'reschedule';

/** What the customer may still do to the reservation by themselves, and until when (null: not any more / never). */
export function customerRules(
  settings: SelfServiceSettings,
  state: ExistingState,
  now: Date,
): Record<SelfServiceAction, string | null> {
  const open = state.status === 'requested' || state.status === 'confirmed';
  const until = (action: SelfServiceAction) => {
    if (!open) return null;
    const deadline = selfServiceDeadline(settings, action, state.reservation.start);
    return deadline !== null && Date.parse(deadline) > now.getTime() ? deadline : null;
  };
  // Only a reservation of the catalog can move to another slot.
  return {
    cancellation: until('cancellation'),
    reschedule: state.reservation.serviceId ? until('reschedule') : null,
  };
}

/** Refuses a customer's own cancel or move the tenant's rules do not allow (any more): 409 naming the rule. */
export function requireAllowed(
  settings: SelfServiceSettings,
  state: ExistingState,
  action: SelfServiceAction,
  now: Date,
): void {
  if (customerRules(settings, state, now)[action] !== null) return;
  const rule = settings[action];
  throw new IllegalStateError(
    action === 'cancellation' ? 'cancellation-not-allowed' : 'reschedule-not-allowed',
    !rule.allowed
      ? `The ${action === 'cancellation' ? 'cancellation' : 'move'} of a reservation is done by the staff here: please contact them.`
      : `It is too late to ${action === 'cancellation' ? 'cancel' : 'move'} this reservation yourself (until ${rule.untilMinutesBefore} minutes before the start): please contact the staff.`,
    { allowed: rule.allowed, untilMinutesBefore: rule.untilMinutesBefore, status: state.status },
  );
}
