import {
  normalizeStaffEmail,
  isSessionValid,
  staffAccountDecider,
  staffAccountStreamName,
  type StaffAccountCommand,
  type StaffAccountState,
  type StaffRole,
} from '../../domain/staff/staff-account.decider.js';
import { invalid } from '../../domain/catalog/validation.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { Clock } from '../ports/clock.port.js';
import type { PasswordHasher } from '../ports/password-hasher.port.js';
import type { ReadModelStore, StoredDocument } from '../ports/read-model-store.port.js';
import type { StaffSessionClaims, StaffSessionTokens } from '../ports/staff-sessions.port.js';
import { physicalCollection, projectInline } from '../projections/projection.js';
import {
  sessionStateOf,
  staffAccountDocumentId,
  staffAccountsProjection,
  type StaffAccountDocument,
} from '../projections/staff-accounts.projection.js';

export interface StaffDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly readModels: ReadModelStore;
  readonly hasher: PasswordHasher;
  readonly sessions: StaffSessionTokens;
  /** STAFF_SESSION_HOURS: how long a session lasts after signing in (default 12). */
  readonly sessionHours: number;
}

const STAFF_ACCOUNTS = physicalCollection(staffAccountsProjection);
/** Long enough for a passphrase, short enough that hashing it is bounded work (argon2 reads it all). */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

/** A staff account as the API shows it: never the password hash, nor the session bookkeeping. */
export interface StaffAccountView {
  readonly tenantId: string;
  readonly staffId: string;
  readonly email: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly locale: string;
  readonly status: 'active' | 'disabled';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly lastSignInAt: string | null;
}

function view(doc: StaffAccountDocument): StaffAccountView {
  return {
    tenantId: doc.tenantId,
    staffId: doc.staffId,
    email: doc.email,
    name: doc.name,
    role: doc.role,
    locale: doc.locale,
    status: doc.status,
    createdAt: doc.createdAt,
    createdBy: doc.createdBy,
    lastSignInAt: doc.lastSignInAt ?? null,
  };
}

export function staffIdFor(deps: Pick<StaffDeps, 'ids'>, tenantId: string, email: string): string {
  return deps.ids.derive('staff-account', tenantId, normalizeStaffEmail(email));
}

function checkPassword(password: string): string {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw invalid('password', 'length', `password must be ${PASSWORD_MIN}-${PASSWORD_MAX} characters.`, {
      min: PASSWORD_MIN,
      max: PASSWORD_MAX,
    });
  }
  return password;
}

async function run(deps: StaffDeps, context: CommandContext, staffId: string, command: StaffAccountCommand) {
  const stream = staffAccountStreamName(context.tenantId, staffId);
  const result = await handleCommand(deps, stream, staffAccountDecider, command, context);
  if (result.newEvents.length > 0) {
    // Inline: a disabled account or an ended session stops working with this answer, not a moment later.
    const { events } = await deps.eventStore.readStream(stream);
    await projectInline(deps.readModels, staffAccountsProjection, events);
  }
  return result;
}

async function document(deps: Pick<StaffDeps, 'readModels'>, tenantId: string, staffId: string) {
  return deps.readModels.get<StaffAccountDocument & StoredDocument>(
    STAFF_ACCOUNTS,
    staffAccountDocumentId(tenantId, staffId),
  );
}

export async function getStaffAccount(deps: Pick<StaffDeps, 'readModels'>, tenantId: string, staffId: string) {
  const doc = await document(deps, tenantId, staffId);
  if (!doc) throw new NotFoundError('staff-account-not-found', 'No such staff account.', { staffId });
  return view(doc);
}

export async function listStaffAccounts(deps: Pick<StaffDeps, 'readModels'>, tenantId: string) {
  const docs = await deps.readModels.find<StaffAccountDocument & StoredDocument>(
    STAFF_ACCOUNTS,
    { tenantId },
    { sort: { field: 'email', direction: 1 }, limit: 500 },
  );
  return docs.map(view);
}

export interface NewStaffAccount {
  readonly email: string;
  readonly name: string;
  readonly role: StaffRole;
  readonly locale: string;
  readonly password: string;
}

export async function createStaffAccount(deps: StaffDeps, context: CommandContext, input: NewStaffAccount) {
  const staffId = staffIdFor(deps, context.tenantId, input.email);
  const passwordHash = await deps.hasher.hash(checkPassword(input.password));
  await run(deps, context, staffId, {
    type: 'CreateStaffAccount',
    data: {
      tenantId: context.tenantId,
      staffId,
      email: input.email,
      name: input.name,
      role: input.role,
      locale: input.locale,
      passwordHash,
      now: deps.clock.now().toISOString(),
      actor: context.actor,
    },
  });
  return getStaffAccount(deps, context.tenantId, staffId);
}

export async function changeStaffAccount(
  deps: StaffDeps,
  context: CommandContext,
  staffId: string,
  change: { name?: string; role?: StaffRole; locale?: string; password?: string; disabled?: boolean },
) {
  const now = () => deps.clock.now().toISOString();
  const { name, role, locale } = change;
  if (name !== undefined || role !== undefined || locale !== undefined) {
    await run(deps, context, staffId, {
      type: 'ChangeStaffAccount',
      data: {
        ...(name !== undefined ? { name } : {}),
        ...(role !== undefined ? { role } : {}),
        ...(locale !== undefined ? { locale } : {}),
        now: now(),
        actor: context.actor,
      },
    });
  }
  if (change.password !== undefined) {
    const passwordHash = await deps.hasher.hash(checkPassword(change.password));
    await run(deps, context, staffId, {
      type: 'ChangeStaffPassword',
      data: { passwordHash, now: now(), actor: context.actor },
    });
  }
  if (change.disabled !== undefined) {
    await run(deps, context, staffId, {
      type: change.disabled ? 'DisableStaffAccount' : 'EnableStaffAccount',
      data: { now: now(), actor: context.actor },
    });
  }
  return getStaffAccount(deps, context.tenantId, staffId);
}

export interface SignedIn {
  readonly token: string;
  readonly claims: StaffSessionClaims;
  readonly csrfToken: string;
  readonly account: StaffAccountView;
}

/**
 * A hash of a password nobody has, verified when the account does not exist, so an unknown address takes as long
 * as a wrong password (no enumeration of staff addresses by timing).
 */
let decoyHash: Promise<string> | undefined;

/** Email and password → a new session, or null (unknown address, wrong password, disabled account: one answer). */
export async function signIn(
  deps: StaffDeps,
  input: { tenantId: string; email: string; password: string; correlationId: string },
): Promise<SignedIn | null> {
  if (input.password.length > PASSWORD_MAX) return null;
  const staffId = staffIdFor(deps, input.tenantId, input.email);
  const { state } = await loadAggregate(
    deps.eventStore,
    staffAccountStreamName(input.tenantId, staffId),
    staffAccountDecider,
  );
  if (state.status === 'none') {
    decoyHash ??= deps.hasher.hash('decoy password that nobody has');
    await deps.hasher.verify(await decoyHash, input.password);
    return null;
  }
  const matches = await deps.hasher.verify(state.passwordHash, input.password);
  if (!matches || state.status !== 'active') return null;
  const now = deps.clock.now();
  const claims: StaffSessionClaims = {
    tenantId: input.tenantId,
    staffId,
    sessionId: deps.ids.newId(),
    // Whole seconds: the cookie carries seconds, and a session must not look issued before a password change.
    issuedAt: new Date(Math.ceil(now.getTime() / 1000) * 1000).toISOString(),
    expiresAt: new Date(Math.floor(now.getTime() / 1000) * 1000 + deps.sessionHours * 3_600_000).toISOString(),
  };
  await run(
    deps,
    { tenantId: input.tenantId, actor: `staff:${staffId}`, correlationId: input.correlationId },
    staffId,
    {
      type: 'RecordStaffSignIn',
      data: { sessionId: claims.sessionId, expiresAt: claims.expiresAt, now: now.toISOString() },
    },
  );
  return {
    token: deps.sessions.issue(claims),
    claims,
    csrfToken: deps.sessions.csrfTokenFor(claims.sessionId),
    account: await getStaffAccount(deps, input.tenantId, staffId),
  };
}

export async function signOut(deps: StaffDeps, claims: StaffSessionClaims, correlationId: string): Promise<void> {
  await run(deps, { tenantId: claims.tenantId, actor: `staff:${claims.staffId}`, correlationId }, claims.staffId, {
    type: 'EndStaffSession',
    data: { sessionId: claims.sessionId, expiresAt: claims.expiresAt, now: deps.clock.now().toISOString() },
  });
}

export interface StaffSession {
  readonly claims: StaffSessionClaims;
  readonly account: StaffAccountView;
}

/**
 * The session a cookie names, when it is signed, unexpired, and neither signed out nor ended by a password change
 * or a disabled account. Cheap checks first (the signature), then one document read.
 */
export async function authenticateSession(
  deps: Pick<StaffDeps, 'readModels' | 'sessions' | 'clock' | 'eventStore'>,
  token: string,
): Promise<StaffSession | null> {
  const claims = deps.sessions.verify(token, deps.clock.now());
  if (!claims) return null;
  const doc = await document(deps, claims.tenantId, claims.staffId);
  let state: StaffAccountState;
  if (doc) state = sessionStateOf(doc);
  else {
    // The projection has not caught up (a rebuild): the stream decides.
    state = (
      await loadAggregate(deps.eventStore, staffAccountStreamName(claims.tenantId, claims.staffId), staffAccountDecider)
    ).state;
  }
  if (!isSessionValid(state, claims.sessionId, claims.issuedAt) || state.status === 'none') return null;
  const account: StaffAccountView = doc
    ? view(doc)
    : {
        ...state.account,
        status: state.status,
        createdAt: state.sessionsValidAfter,
        createdBy: '',
        lastSignInAt: null,
      };
  return { claims, account };
}
