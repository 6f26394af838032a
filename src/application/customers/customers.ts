import { invalid, requireInstant } from '../../domain/catalog/validation.js';
import { customerPreferencesDecider, customerTagsOf } from '../../domain/notification/index.js';
import { NotFoundError } from '../../domain/shared/errors.js';
import {
  type ExpectedRevision,
  handleCommand,
  type CommandContext,
  type CommandHandlerDeps,
} from '../command-handler.js';
import { customerPreferencesStreamName } from '../notifications/notification-streams.js';
import type { Clock } from '../ports/clock.port.js';
import type { FieldCondition, ReadModelStore } from '../ports/read-model-store.port.js';
import {
  customerDocumentId,
  customersProjection,
  queryTokens,
  type CustomerDocument,
} from '../projections/customers.projection.js';
import { physicalCollection } from '../projections/projection.js';

export interface CustomerFilter {
  /** Words of the name, an email (or the start of one), a phone number or its last digits. */
  readonly query?: string;
  /** A tag, any case. */
  readonly tag?: string;
  /** Last visit before this instant (customers who never came are left out). */
  readonly lastVisitBefore?: string;
  /** Last visit at or after this instant. */
  readonly lastVisitAfter?: string;
  /** At least this many reservations made and not called off. */
  readonly minReservations?: number;
}

export interface CustomerPage {
  readonly items: CustomerDocument[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export const MAX_CUSTOMER_PAGE = 500;
/** Documents a query with several words reads at most per page before answering with what it found. */
const MAX_SCANNED = 5_000;

type Stored = CustomerDocument & { _id: string; _position?: string };

function encodeCursor(sortName: string, id: string): string {
  return Buffer.from(JSON.stringify([sortName, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { sortName: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { sortName: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw invalid('cursor', 'cursor', 'cursor must be a value returned as nextCursor.');
}

function strip(doc: Stored): CustomerDocument {
  const { _id: _ignoredId, _position: _ignoredPosition, ...rest } = doc;
  return rest as CustomerDocument;
}

/** The read-model conditions of a filter, and the tokens a document must also have (checked in memory). */
function conditionsOf(
  tenantId: string,
  filter: CustomerFilter,
): { base: Record<string, FieldCondition>; alsoTokens: string[] } {
  const base: Record<string, FieldCondition> = { tenantId };
  let alsoTokens: string[] = [];
  if (filter.query !== undefined && filter.query.trim() !== '') {
    const tokens = queryTokens(filter.query);
    if (tokens.length === 0) throw invalid('query', 'words', 'query must contain letters or digits.');
    // The longest word narrows most in the store; the others are checked on what it finds.
    const [first, ...rest] = [...tokens].sort((a, b) => b.length - a.length);
    base.search = first!;
    alsoTokens = rest;
  }
  if (filter.tag !== undefined) base.tagKeys = filter.tag.trim().toLowerCase();
  const before =
    filter.lastVisitBefore !== undefined ? requireInstant('lastVisitBefore', filter.lastVisitBefore) : null;
  const after = filter.lastVisitAfter !== undefined ? requireInstant('lastVisitAfter', filter.lastVisitAfter) : null;
  if (before && after && Date.parse(before) <= Date.parse(after)) {
    throw invalid('lastVisitBefore', 'after-last-visit-after', 'lastVisitBefore must be after lastVisitAfter.');
  }
  // Instants are compared as stored ISO strings (UTC, milliseconds): normalised by requireInstant the same way.
  if (before || after) {
    base.lastVisitAt = { ...(before ? { $lt: before } : {}), ...(after ? { $gte: after } : {}) };
  }
  if (filter.minReservations !== undefined && filter.minReservations > 0) {
    base.reservationCount = { $gte: filter.minReservations };
  }
  return { base, alsoTokens };
}

/**
 * Customers by name, email, phone, tag, last visit and number of reservations, in name order, a page at a time
 * (keyset pagination on (name, ref), so customers added meanwhile are neither repeated nor skipped). Several query
 * words must all match; a page may then hold fewer than `limit` items with a `nextCursor` still to follow.
 */
export async function listCustomers(
  readModels: ReadModelStore,
  tenantId: string,
  filter: CustomerFilter,
  page: { cursor?: string; limit?: number } = {},
): Promise<CustomerPage> {
  const limit = Math.min(MAX_CUSTOMER_PAGE, Math.max(1, page.limit ?? 50));
  const { base, alsoTokens } = conditionsOf(tenantId, filter);
  const matches = (doc: Stored) => alsoTokens.every((token) => doc.search.includes(token));
  const collection = physicalCollection(customersProjection);
  const found: Stored[] = [];
  let after = page.cursor ? decodeCursor(page.cursor) : null;
  let scanned = 0;
  let exhausted = false;
  let lastScanned: Stored | undefined;
  while (found.length <= limit && !exhausted && scanned < MAX_SCANNED) {
    const batch: Stored[] = [];
    const want = limit + 1 - found.length + (alsoTokens.length > 0 ? 50 : 0);
    if (after) {
      // Same name, later ref; then later names. The store's filters are conjunctions, so two queries.
      batch.push(
        ...(await readModels.find<Stored>(
          collection,
          { ...base, sortName: after.sortName, _id: { $gt: after.id } },
          { sort: { field: '_id', direction: 1 }, limit: want },
        )),
      );
      if (batch.length < want) {
        batch.push(
          ...(await readModels.find<Stored>(
            collection,
            { ...base, sortName: { $gt: after.sortName } },
            { sort: { field: 'sortName', direction: 1 }, limit: want - batch.length },
          )),
        );
      }
    } else {
      batch.push(
        ...(await readModels.find<Stored>(collection, base, {
          sort: { field: 'sortName', direction: 1 },
          limit: want,
        })),
      );
    }
    if (batch.length < want) exhausted = true;
    scanned += batch.length;
    for (const doc of batch) {
      lastScanned = doc;
      if (matches(doc)) found.push(doc);
      if (found.length > limit) break;
    }
    if (lastScanned) after = { sortName: lastScanned.sortName, id: lastScanned._id };
  }
  const items = found.slice(0, limit);
  const last = items.at(-1);
  let nextCursor: string | null = null;
  if (found.length > limit && last) nextCursor = encodeCursor(last.sortName, last._id);
  else if (!exhausted && lastScanned) nextCursor = encodeCursor(lastScanned.sortName, lastScanned._id);
  return { items: items.map(strip), nextCursor };
}

/** Every customer of a filter, in name order (bulk messages); at most `max`, and whether there were more. */
export async function allCustomers(
  readModels: ReadModelStore,
  tenantId: string,
  filter: CustomerFilter,
  max: number,
): Promise<{ customers: CustomerDocument[]; truncated: boolean }> {
  const customers: CustomerDocument[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listCustomers(readModels, tenantId, filter, {
      ...(cursor ? { cursor } : {}),
      limit: MAX_CUSTOMER_PAGE,
    });
    customers.push(...page.items);
    if (customers.length > max) return { customers: customers.slice(0, max), truncated: true };
    if (!page.nextCursor) return { customers, truncated: false };
    cursor = page.nextCursor;
  }
}

export async function getCustomer(
  readModels: ReadModelStore,
  tenantId: string,
  customerRef: string,
): Promise<CustomerDocument> {
  const doc = await readModels.get<Stored>(
    physicalCollection(customersProjection),
    customerDocumentId(tenantId, customerRef),
  );
  if (!doc) {
    throw new NotFoundError('customer-not-found', `Customer ${customerRef} is not known.`, { customerRef });
  }
  return strip(doc);
}

/** Several customers by ref (bulk messages about reservations: their preferences as the read model has them). */
export async function customersByRef(
  readModels: ReadModelStore,
  tenantId: string,
  refs: readonly string[],
): Promise<Map<string, CustomerDocument>> {
  const result = new Map<string, CustomerDocument>();
  // By primary key: far cheaper in both stores than `$in` over thousands of refs.
  const collection = physicalCollection(customersProjection);
  const unique = [...new Set(refs)];
  for (let i = 0; i < unique.length; i += 64) {
    const docs = await Promise.all(
      unique.slice(i, i + 64).map((ref) => readModels.get<Stored>(collection, customerDocumentId(tenantId, ref))),
    );
    for (const doc of docs) if (doc) result.set(doc.customerRef, strip(doc));
  }
  return result;
}

/** Replaces a customer's tags; recorded as `CustomerTagsChanged` on their `customer-` stream. */
export async function changeCustomerTags(
  deps: CommandHandlerDeps & { readonly clock: Clock },
  context: CommandContext,
  customerRef: string,
  tags: readonly string[],
  expectedRevision?: ExpectedRevision,
): Promise<{ tags: readonly string[]; revision: bigint | undefined; changed: boolean }> {
  const result = await handleCommand(
    deps,
    customerPreferencesStreamName(context.tenantId, customerRef),
    customerPreferencesDecider,
    {
      type: 'ChangeCustomerTags',
      data: {
        customerId: customerRef,
        tenantId: context.tenantId,
        tags,
        at: deps.clock.now().toISOString(),
        by: context.actor,
      },
    },
    context,
    expectedRevision !== undefined ? { expectedRevision } : {},
  );
  return {
    tags: customerTagsOf(result.state),
    revision: result.revision === 'no_stream' ? undefined : result.revision,
    changed: result.newEvents.length > 0,
  };
}
