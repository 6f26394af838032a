import {
  invalid,
  requireBoolean,
  requireId,
  requireInstant,
  requireInteger,
  requireOneOf,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { compoundStreamName } from '../catalog/stream-name.js';
import { parseInstant } from '../shared/zoned-time.js';
import { WAITLIST_MODES, type WaitlistMode } from './waitlist.decider.js';

/**
 * A tenant's waitlist policy, overridable per service. Switching the waitlist off stops joins and allocation but
 * keeps every entry, status, open offer and the "came from the waitlist" mark on reservations; switching it on
 * again resumes allocation where it stopped.
 */
export interface WaitlistPolicy {
  readonly enabled: boolean;
  /** `offer`: the seat is held for the entry during the response window; `assign`: it is booked for them at once. */
  readonly mode: WaitlistMode;
  /** How long an offered seat is held for an answer. */
  readonly responseWindowSeconds: number;
  /** Active entries (waiting or offered) a slot's list takes at most. */
  readonly maxEntries: number;
  /**
   * No offer or assignment later than this many minutes before the start. Negative: offers may still go out after
   * the start (a no-show's seat in a long session), up to the slot's end.
   */
  readonly cutoffMinutes: number;
}

export interface WaitlistSettings extends WaitlistPolicy {
  /** Per-service overrides: only the fields given replace the tenant's. */
  readonly services: Readonly<Record<string, Partial<WaitlistPolicy>>>;
}

export const DEFAULT_WAITLIST_POLICY: WaitlistPolicy = {
  enabled: true,
  mode: 'offer',
  responseWindowSeconds: 15 * 60,
  maxEntries: 100,
  cutoffMinutes: 0,
};

export const DEFAULT_WAITLIST_SETTINGS: WaitlistSettings = { ...DEFAULT_WAITLIST_POLICY, services: {} };

const MAX_WINDOW_SECONDS = 7 * 24 * 3600;
const MAX_ENTRIES = 10_000;
const MAX_CUTOFF_MINUTES = 30 * 24 * 60;
const MAX_SERVICE_OVERRIDES = 1_000;

function validatePolicyFields(raw: Partial<Record<keyof WaitlistPolicy, unknown>>, prefix: string) {
  const out: Partial<{ -readonly [K in keyof WaitlistPolicy]: WaitlistPolicy[K] }> = {};
  if (raw.enabled !== undefined) out.enabled = requireBoolean(`${prefix}enabled`, raw.enabled);
  if (raw.mode !== undefined) out.mode = requireOneOf(`${prefix}mode`, raw.mode, WAITLIST_MODES);
  if (raw.responseWindowSeconds !== undefined) {
    out.responseWindowSeconds = requireInteger(
      `${prefix}responseWindowSeconds`,
      raw.responseWindowSeconds,
      1,
      MAX_WINDOW_SECONDS,
    );
  }
  if (raw.maxEntries !== undefined)
    out.maxEntries = requireInteger(`${prefix}maxEntries`, raw.maxEntries, 1, MAX_ENTRIES);
  if (raw.cutoffMinutes !== undefined) {
    out.cutoffMinutes = requireInteger(`${prefix}cutoffMinutes`, raw.cutoffMinutes, -24 * 60, MAX_CUTOFF_MINUTES);
  }
  return out;
}

/** Validates a whole settings document (every tenant-level field present); returns it normalised. */
export function validateWaitlistSettings(raw: unknown): WaitlistSettings {
  if (typeof raw !== 'object' || raw === null) throw invalid('settings', 'required', 'settings are required.');
  const value = raw as Record<string, unknown>;
  const tenant = validatePolicyFields(value, '');
  for (const field of Object.keys(DEFAULT_WAITLIST_POLICY) as (keyof WaitlistPolicy)[]) {
    if (tenant[field] === undefined) throw invalid(field, 'required', `${field} is required.`);
  }
  const services: Record<string, Partial<WaitlistPolicy>> = {};
  const rawServices = value.services ?? {};
  if (typeof rawServices !== 'object' || rawServices === null || Array.isArray(rawServices)) {
    throw invalid('services', 'object', 'services must map service ids to overrides.');
  }
  const entries = Object.entries(rawServices as Record<string, unknown>);
  if (entries.length > MAX_SERVICE_OVERRIDES) {
    throw invalid('services', 'max-items', `At most ${MAX_SERVICE_OVERRIDES} service overrides.`);
  }
  for (const [serviceId, override] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    requireId(`services.${serviceId}`, serviceId);
    if (typeof override !== 'object' || override === null) {
      throw invalid(`services.${serviceId}`, 'object', 'A service override is an object of policy fields.');
    }
    const fields = validatePolicyFields(override as Record<string, unknown>, `services.${serviceId}.`);
    if (Object.keys(fields).length > 0) services[serviceId] = fields;
  }
  return { ...(tenant as WaitlistPolicy), services };
}

/** The policy in force for one service. */
export function policyFor(settings: WaitlistSettings, serviceId: string): WaitlistPolicy {
  const { services, ...tenant } = settings;
  return { ...tenant, ...(Object.hasOwn(services, serviceId) ? services[serviceId] : {}) };
}

/**
 * The last instant at which a seat of the slot can be offered or assigned: the start minus the cut-off, never
 * later than the slot's end.
 */
export function allocationDeadline(
  policy: Pick<WaitlistPolicy, 'cutoffMinutes'>,
  slot: { start: string; end: string },
) {
  const start = parseInstant(slot.start) ?? NaN;
  const end = parseInstant(slot.end) ?? NaN;
  return new Date(Math.min(start - policy.cutoffMinutes * 60_000, end)).toISOString();
}

// The settings aggregate ---------------------------------------------------------------------------------------------

export type WaitlistSettingsState =
  | { readonly status: 'default' }
  | { readonly status: 'configured'; readonly settings: WaitlistSettings; readonly changedAt: string };

export type ChangeWaitlistSettings = Command<
  'ChangeWaitlistSettings',
  { readonly tenantId: string; readonly settings: WaitlistSettings; readonly now: string; readonly actor: string }
>;

export type WaitlistSettingsChanged = DomainEvent<
  'WaitlistSettingsChanged',
  {
    readonly tenantId: string;
    readonly settings: WaitlistSettings;
    /** What was in force before: allocation resumes for the lists it concerns when `enabled` goes on. */
    readonly previous: WaitlistSettings;
    readonly changedAt: string;
    readonly actor: string;
  }
>;

export function waitlistSettingsStreamName(tenantId: string): string {
  return compoundStreamName('settings', tenantId, 'waitlist');
}

export function waitlistSettingsOf(state: WaitlistSettingsState): WaitlistSettings {
  return state.status === 'configured' ? state.settings : DEFAULT_WAITLIST_SETTINGS;
}

export const waitlistSettingsDecider: Decider<ChangeWaitlistSettings, WaitlistSettingsState, WaitlistSettingsChanged> =
  {
    decide(command, state) {
      const tenantId = requireId('tenantId', command.data.tenantId);
      const now = requireInstant('now', command.data.now);
      const settings = validateWaitlistSettings(command.data.settings);
      const previous = waitlistSettingsOf(state);
      if (JSON.stringify(canonical(previous)) === JSON.stringify(canonical(settings))) return [];
      return [
        {
          type: 'WaitlistSettingsChanged',
          data: { tenantId, settings, previous, changedAt: now, actor: command.data.actor },
        },
      ];
    },
    evolve(_state, event) {
      return { status: 'configured', settings: event.data.settings, changedAt: event.data.changedAt };
    },
    initialState: () => ({ status: 'default' }),
  };

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}
