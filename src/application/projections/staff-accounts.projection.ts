import {
  STAFF_ACCOUNT_EVENT_TYPES,
  staffAccountDecider,
  type StaffAccountEvent,
  type StaffAccountState,
  type StaffRole,
} from '../../domain/staff/staff-account.decider.js';
import type { Projection } from './projection.js';

/**
 * Staff accounts as the console lists them and as every request made with a session cookie checks them: status,
 * role, and what ended sessions early (sessionsValidAfter, signed-out sessions until they expire). Never the
 * password hash: sign-in reads the account's stream.
 */
export interface StaffAccountDocument extends Record<string, unknown> {
  tenantId: string;
  staffId: string;
  email: string;
  name: string;
  role: StaffRole;
  locale: string;
  status: 'active' | 'disabled';
  createdAt: string;
  createdBy: string;
  sessionsValidAfter: string;
  endedSessions: Record<string, string>;
  lastSignInAt: string | null;
}

export function staffAccountDocumentId(tenantId: string, staffId: string): string {
  return `${tenantId}:${staffId}`;
}

/** The decider's state as far as a session check needs it, from the document. */
export function sessionStateOf(doc: StaffAccountDocument): StaffAccountState {
  return {
    status: doc.status,
    account: {
      tenantId: doc.tenantId,
      staffId: doc.staffId,
      email: doc.email,
      name: doc.name,
      role: doc.role,
      locale: doc.locale,
    },
    passwordHash: '',
    sessionsValidAfter: doc.sessionsValidAfter,
    endedSessions: doc.endedSessions,
  };
}

export const staffAccountsProjection: Projection<StaffAccountDocument> = {
  name: 'staff-accounts',
  version: 1,
  collection: 'staff_accounts',
  eventTypes: STAFF_ACCOUNT_EVENT_TYPES,
  indexes: [['tenantId', 'email']],
  documentId(event) {
    const { tenantId, staffId } = event.data;
    return typeof tenantId === 'string' && typeof staffId === 'string'
      ? staffAccountDocumentId(tenantId, staffId)
      : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as StaffAccountEvent;
    if (event.type === 'StaffAccountCreated') {
      return {
        tenantId: event.data.tenantId,
        staffId: event.data.staffId,
        email: event.data.email,
        name: event.data.name,
        role: event.data.role,
        locale: event.data.locale,
        status: 'active',
        createdAt: event.data.createdAt,
        createdBy: event.data.actor,
        sessionsValidAfter: event.data.createdAt,
        endedSessions: {},
        lastSignInAt: null,
      };
    }
    if (!doc) return doc;
    // The same fold as the decider's, so the check on each request and the stream agree.
    const state = staffAccountDecider.evolve(sessionStateOf(doc), event);
    if (state.status === 'none') return doc;
    return {
      ...doc,
      name: state.account.name,
      role: state.account.role,
      locale: state.account.locale,
      status: state.status,
      sessionsValidAfter: state.sessionsValidAfter,
      endedSessions: { ...state.endedSessions },
      ...(event.type === 'StaffSignedIn' ? { lastSignInAt: event.data.signedInAt } : {}),
    };
  },
};
