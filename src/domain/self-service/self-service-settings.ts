import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  jsonEqual,
  requireBoolean,
  requireId,
  requireInstant,
  requireInteger,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';

/**
 * What a tenant lets its customers do by themselves: book on the public booking page, and cancel or move a
 * reservation from their own page (the signed link in every message) until some minutes before its start.
 * Staff can always do both over the API; these rules bind the customer only.
 */
export interface SelfServiceSettings {
  /** The public booking page /book/<tenant> and its API (/v1/public/tenants/<tenant>/...). Off until switched on. */
  readonly bookingPage: { readonly enabled: boolean };
  /** Cancelling from the customer's own page. */
  readonly cancellation: { readonly allowed: boolean; readonly untilMinutesBefore: number };
  /** Moving to another slot of the same service from the customer's own page. */
  readonly reschedule: { readonly allowed: boolean; readonly untilMinutesBefore: number };
}

export const DEFAULT_SELF_SERVICE_SETTINGS: SelfServiceSettings = {
  bookingPage: { enabled: false },
  cancellation: { allowed: true, untilMinutesBefore: 120 },
  reschedule: { allowed: true, untilMinutesBefore: 120 },
};

const MAX_MINUTES_BEFORE = 60 * 24 * 60;

function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, 'object', `${field} must be an object.`);
  }
  return value as Record<string, unknown>;
}

function rule(field: string, value: unknown) {
  const raw = object(field, value);
  return {
    allowed: requireBoolean(`${field}.allowed`, raw.allowed),
    untilMinutesBefore: requireInteger(`${field}.untilMinutesBefore`, raw.untilMinutesBefore, 0, MAX_MINUTES_BEFORE),
  };
}

export function validateSelfServiceSettings(value: unknown): SelfServiceSettings {
  const raw = object('settings', value);
  const bookingPage = object('bookingPage', raw.bookingPage);
  return {
    bookingPage: { enabled: requireBoolean('bookingPage.enabled', bookingPage.enabled) },
    cancellation: rule('cancellation', raw.cancellation),
    reschedule: rule('reschedule', raw.reschedule),
  };
}

/** Until when the customer may do `action` to a reservation starting at `start`; null when the tenant does not allow it. */
export function selfServiceDeadline(
  settings: SelfServiceSettings,
  action: 'cancellation' | 'reschedule',
  start: string,
): string | null {
  const rule = settings[action];
  if (!rule.allowed) return null;
  return new Date(Date.parse(start) - rule.untilMinutesBefore * 60_000).toISOString();
}

// The settings aggregate ---------------------------------------------------------------------------------------------

export type SelfServiceSettingsState =
  | { readonly status: 'default' }
  | { readonly status: 'configured'; readonly settings: SelfServiceSettings; readonly changedAt: string };

export type ChangeSelfServiceSettings = Command<
  'ChangeSelfServiceSettings',
  { readonly tenantId: string; readonly settings: SelfServiceSettings; readonly now: string; readonly actor: string }
>;

export type SelfServiceSettingsChanged = DomainEvent<
  'SelfServiceSettingsChanged',
  {
    readonly tenantId: string;
    readonly settings: SelfServiceSettings;
    readonly changedAt: string;
    readonly actor: string;
  }
>;

export function selfServiceSettingsStreamName(tenantId: string): string {
  return compoundStreamName('settings', tenantId, 'self-service');
}

export function selfServiceSettingsOf(state: SelfServiceSettingsState): SelfServiceSettings {
  return state.status === 'configured' ? state.settings : DEFAULT_SELF_SERVICE_SETTINGS;
}

export const selfServiceSettingsDecider: Decider<
  ChangeSelfServiceSettings,
  SelfServiceSettingsState,
  SelfServiceSettingsChanged
> = {
  decide(command, state) {
    const tenantId = requireId('tenantId', command.data.tenantId);
    const now = requireInstant('now', command.data.now);
    const settings = validateSelfServiceSettings(command.data.settings);
    if (jsonEqual(selfServiceSettingsOf(state), settings)) return [];
    return [
      { type: 'SelfServiceSettingsChanged', data: { tenantId, settings, changedAt: now, actor: command.data.actor } },
    ];
  },
  evolve(_state, event) {
    return { status: 'configured', settings: event.data.settings, changedAt: event.data.changedAt };
  },
  initialState: () => ({ status: 'default' }),
};
