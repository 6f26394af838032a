import { requireId } from './validation.js';

/**
 * Stream names follow message-db: `<category>-<id>`, where the id is compound, its parts joined by `+`, tenant
 * first: `reservation-acme+r-123`, `slot-acme+res-7+2025-03-30T07:00:00.000Z`. Categories contain no `-` (so
 * EventStoreDB's `$ce-<category>` streams work) and ids contain no `+` (`requireId` forbids it), so a name splits
 * back into its parts unambiguously and the tenant is never lost.
 */
export function compoundStreamName(category: string, tenantId: string, ...ids: string[]): string {
  return `${category}-${[requireId('tenantId', tenantId), ...ids].join('+')}`;
}

export function parseCompoundStreamName(
  streamName: string,
): { category: string; tenantId: string; ids: string[] } | null {
  const dash = streamName.indexOf('-');
  if (dash <= 0) return null;
  const [tenantId, ...ids] = streamName.slice(dash + 1).split('+');
  if (!tenantId || ids.length === 0) return null;
  return { category: streamName.slice(0, dash), tenantId, ids };
}
