import { compoundStreamName } from '../catalog/stream-name.js';
import {
  invalid,
  requireEmail,
  requireId,
  requireInstant,
  requireLocale,
  requireOneOf,
  requireText,
} from '../catalog/validation.js';
import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, NotFoundError } from '../shared/errors.js';

/**
 * A person of the tenant who signs in to the staff console with an email address and a password. The password is
 * never in an event: only its hash (argon2id, PHC string), made outside the domain. Roles are the API's: an admin
 * may do everything in the tenant, staff the day-to-day work (integration is for machines, never a person).
 *
 * Sessions are stateless signed cookies; what ends them server-side is recorded here: signing out ends one session,
 * a password change or disabling the account ends every session issued before it.
 */
export const STAFF_ROLES = ['admin', 'staff'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffAccountDetails {
  readonly tenantId: string;
  readonly staffId: string;
  /** Lower-cased; the account's stream is derived from it, so one address has one account per tenant. */
  readonly email: string;
  readonly name: string;
  readonly role: StaffRole;
  /** The console's language for this person (en, cs, nb...). */
  readonly locale: string;
}

export type StaffAccountState =
  | { readonly status: 'none' }
  | {
      readonly status: 'active' | 'disabled';
      readonly account: StaffAccountDetails;
      readonly passwordHash: string;
      /** Sessions issued before this instant are no longer valid (password change, disabling). */
      readonly sessionsValidAfter: string;
      /** Sessions signed out, with when they would have expired anyway (kept only until then). */
      readonly endedSessions: Readonly<Record<string, string>>;
    };

// Commands -----------------------------------------------------------------------------------------------------------

export type CreateStaffAccount = Command<
  'CreateStaffAccount',
  StaffAccountDetails & { readonly passwordHash: string; readonly now: string; readonly actor: string }
>;
export type ChangeStaffPassword = Command<
  'ChangeStaffPassword',
  { readonly passwordHash: string; readonly now: string; readonly actor: string }
>;
export type ChangeStaffAccount = Command<
  'ChangeStaffAccount',
  {
    readonly name?: string;
    readonly role?: StaffRole;
    readonly locale?: string;
    readonly now: string;
    readonly actor: string;
  }
>;
export type DisableStaffAccount = Command<'DisableStaffAccount', { readonly now: string; readonly actor: string }>;
export type EnableStaffAccount = Command<'EnableStaffAccount', { readonly now: string; readonly actor: string }>;
export type RecordStaffSignIn = Command<
  'RecordStaffSignIn',
  { readonly sessionId: string; readonly expiresAt: string; readonly now: string }
>;
export type EndStaffSession = Command<
  'EndStaffSession',
  { readonly sessionId: string; readonly expiresAt: string; readonly now: string }
>;
export type StaffAccountCommand =
  | CreateStaffAccount
  | ChangeStaffPassword
  | ChangeStaffAccount
  | DisableStaffAccount
  | EnableStaffAccount
  | RecordStaffSignIn
  | EndStaffSession;

// Events -------------------------------------------------------------------------------------------------------------

export type StaffAccountCreated = DomainEvent<
  'StaffAccountCreated',
  StaffAccountDetails & { readonly passwordHash: string; readonly createdAt: string; readonly actor: string }
>;
export type StaffPasswordChanged = DomainEvent<
  'StaffPasswordChanged',
  {
    readonly tenantId: string;
    readonly staffId: string;
    readonly passwordHash: string;
    readonly changedAt: string;
    readonly actor: string;
  }
>;
export type StaffAccountChanged = DomainEvent<
  'StaffAccountChanged',
  {
    readonly tenantId: string;
    readonly staffId: string;
    readonly name: string;
    readonly role: StaffRole;
    readonly locale: string;
    readonly changedAt: string;
    readonly actor: string;
  }
>;
export type StaffAccountDisabled = DomainEvent<
  'StaffAccountDisabled',
  { readonly tenantId: string; readonly staffId: string; readonly disabledAt: string; readonly actor: string }
>;
export type StaffAccountEnabled = DomainEvent<
  'StaffAccountEnabled',
  { readonly tenantId: string; readonly staffId: string; readonly enabledAt: string; readonly actor: string }
>;
export type StaffSignedIn = DomainEvent<
  'StaffSignedIn',
  {
    readonly tenantId: string;
    readonly staffId: string;
    readonly sessionId: string;
    readonly signedInAt: string;
    readonly expiresAt: string;
  }
>;
export type StaffSignedOut = DomainEvent<
  'StaffSignedOut',
  {
    readonly tenantId: string;
    readonly staffId: string;
    readonly sessionId: string;
    readonly signedOutAt: string;
    readonly expiresAt: string;
  }
>;
export type StaffAccountEvent =
  | StaffAccountCreated
  | StaffPasswordChanged
  | StaffAccountChanged
  | StaffAccountDisabled
  | StaffAccountEnabled
  | StaffSignedIn
  | StaffSignedOut;

export const STAFF_ACCOUNT_EVENT_TYPES: readonly StaffAccountEvent['type'][] = [
  'StaffAccountCreated',
  'StaffPasswordChanged',
  'StaffAccountChanged',
  'StaffAccountDisabled',
  'StaffAccountEnabled',
  'StaffSignedIn',
  'StaffSignedOut',
];

export function staffAccountStreamName(tenantId: string, staffId: string): string {
  return compoundStreamName('staff', tenantId, staffId);
}

export function normalizeStaffEmail(email: string): string {
  return email.trim().toLowerCase();
}

const PHC_ARGON2 = /^\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

function requirePasswordHash(value: unknown): string {
  if (typeof value !== 'string' || !PHC_ARGON2.test(value) || value.length > 300) {
    throw invalid('passwordHash', 'argon2-phc', 'passwordHash must be an argon2 PHC string.');
  }
  return value;
}

function notFound(): NotFoundError {
  return new NotFoundError('staff-account-not-found', 'No such staff account.');
}

/** Drops signed-out sessions that have expired by `now`: the list stays as short as the sessions still alive. */
function pruned(ended: Readonly<Record<string, string>>, now: string): Record<string, string> {
  const at = Date.parse(now);
  return Object.fromEntries(Object.entries(ended).filter(([, expiresAt]) => Date.parse(expiresAt) > at));
}

/** Whether a session issued at `issuedAt` with id `sessionId` may still be used (its expiry is checked apart). */
export function isSessionValid(state: StaffAccountState, sessionId: string, issuedAt: string): boolean {
  if (state.status !== 'active') return false;
  if (Date.parse(issuedAt) < Date.parse(state.sessionsValidAfter)) return false;
  return !Object.hasOwn(state.endedSessions, sessionId);
}

export const staffAccountDecider: Decider<StaffAccountCommand, StaffAccountState, StaffAccountEvent> = {
  decide(command, state) {
    const now = requireInstant('now', command.data.now);
    if (command.type === 'CreateStaffAccount') {
      const d = command.data;
      if (state.status !== 'none') {
        throw new IllegalStateError('staff-account-exists', 'A staff account with this email address exists.', {
          staffId: state.account.staffId,
        });
      }
      return [
        {
          type: 'StaffAccountCreated',
          data: {
            tenantId: requireId('tenantId', d.tenantId),
            staffId: requireId('staffId', d.staffId),
            email: normalizeStaffEmail(requireEmail('email', d.email)),
            name: requireText('name', d.name, 200),
            role: requireOneOf('role', d.role, STAFF_ROLES),
            locale: requireLocale('locale', d.locale),
            passwordHash: requirePasswordHash(d.passwordHash),
            createdAt: now,
            actor: d.actor,
          },
        },
      ];
    }
    if (state.status === 'none') throw notFound();
    const { tenantId, staffId } = state.account;
    switch (command.type) {
      case 'ChangeStaffPassword':
        return [
          {
            type: 'StaffPasswordChanged',
            data: {
              tenantId,
              staffId,
              passwordHash: requirePasswordHash(command.data.passwordHash),
              changedAt: now,
              actor: command.data.actor,
            },
          },
        ];
      case 'ChangeStaffAccount': {
        const d = command.data;
        const name = d.name !== undefined ? requireText('name', d.name, 200) : state.account.name;
        const role = d.role !== undefined ? requireOneOf('role', d.role, STAFF_ROLES) : state.account.role;
        const locale = d.locale !== undefined ? requireLocale('locale', d.locale) : state.account.locale;
        if (name === state.account.name && role === state.account.role && locale === state.account.locale) return [];
        return [
          {
            type: 'StaffAccountChanged',
            data: { tenantId, staffId, name, role, locale, changedAt: now, actor: d.actor },
          },
        ];
      }
      case 'DisableStaffAccount':
        if (state.status === 'disabled') return [];
        return [
          { type: 'StaffAccountDisabled', data: { tenantId, staffId, disabledAt: now, actor: command.data.actor } },
        ];
      case 'EnableStaffAccount':
        if (state.status === 'active') return [];
        return [
          { type: 'StaffAccountEnabled', data: { tenantId, staffId, enabledAt: now, actor: command.data.actor } },
        ];
      case 'RecordStaffSignIn':
        if (state.status !== 'active') {
          throw new IllegalStateError('staff-account-disabled', 'This staff account is disabled.');
        }
        return [
          {
            type: 'StaffSignedIn',
            data: {
              tenantId,
              staffId,
              sessionId: requireId('sessionId', command.data.sessionId),
              signedInAt: now,
              expiresAt: requireInstant('expiresAt', command.data.expiresAt),
            },
          },
        ];
      case 'EndStaffSession': {
        const { sessionId, expiresAt } = command.data;
        // Already ended, or expired anyway: nothing to record.
        if (Object.hasOwn(state.endedSessions, sessionId) || Date.parse(expiresAt) <= Date.parse(now)) return [];
        return [
          {
            type: 'StaffSignedOut',
            data: {
              tenantId,
              staffId,
              sessionId: requireId('sessionId', sessionId),
              signedOutAt: now,
              expiresAt: requireInstant('expiresAt', expiresAt),
            },
          },
        ];
      }
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'StaffAccountCreated': {
        const { passwordHash, createdAt, actor: _actor, ...account } = event.data;
        return { status: 'active', account, passwordHash, sessionsValidAfter: createdAt, endedSessions: {} };
      }
      case 'StaffPasswordChanged':
        if (state.status === 'none') return state;
        return {
          ...state,
          passwordHash: event.data.passwordHash,
          sessionsValidAfter: event.data.changedAt,
          endedSessions: {},
        };
      case 'StaffAccountChanged':
        if (state.status === 'none') return state;
        return {
          ...state,
          account: { ...state.account, name: event.data.name, role: event.data.role, locale: event.data.locale },
        };
      case 'StaffAccountDisabled':
        if (state.status === 'none') return state;
        return { ...state, status: 'disabled', sessionsValidAfter: event.data.disabledAt, endedSessions: {} };
      case 'StaffAccountEnabled':
        if (state.status === 'none') return state;
        return { ...state, status: 'active', sessionsValidAfter: event.data.enabledAt };
      case 'StaffSignedIn':
        if (state.status === 'none') return state;
        return { ...state, endedSessions: pruned(state.endedSessions, event.data.signedInAt) };
      case 'StaffSignedOut':
        if (state.status === 'none') return state;
        return {
          ...state,
          endedSessions: {
            ...pruned(state.endedSessions, event.data.signedOutAt),
            [event.data.sessionId]: event.data.expiresAt,
          },
        };
    }
  },
  initialState: () => ({ status: 'none' }),
};
