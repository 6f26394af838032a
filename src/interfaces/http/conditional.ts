import type { FastifyRequest } from 'fastify';
import type { ExpectedRevision } from '../../application/command-handler.js';
import { HttpProblem, problem } from './problem.js';

/** `ETag` of an event-sourced resource: its stream revision, as a strong entity tag. */
export function etagFor(revision: bigint): string {
  return `"${revision}"`;
}

/** An RFC 9110 entity tag: `W/` marks a weak one; the opaque part is what is between the quotes. */
interface EntityTag {
  readonly weak: boolean;
  readonly opaque: string;
}

/** `If-Match = "*" / #entity-tag`; undefined when it is not that (empty list elements are allowed, §5.6.1). */
function parseIfMatch(value: string): '*' | EntityTag[] | undefined {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  // etagc = %x21 / %x23-7E / obs-text: any visible character but the quote, and bytes >= 0x80.
  const element = /\s*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)|,|$)/y;
  let at = 0;
  while (at < value.length) {
    element.lastIndex = at;
    const match = element.exec(value);
    if (!match) return undefined;
    if (match[2] !== undefined) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    at = element.lastIndex;
  }
  return tags.length > 0 ? tags : undefined;
}

/**
 * The revisions an `If-Match` request accepts (RFC 9110 §13.1.1): undefined when it sets no condition (absent, or
 * `*`: any current representation — the route answers 404 when there is none); otherwise the revisions of its strong
 * tags, compared strongly: a weak tag (`W/"3"`) or a tag this service never issued (`"abc"`, `"03"`) matches
 * nothing, so a list of only those is a 412. Anything that is not an entity-tag list is a 400.
 */
export function expectedRevisionFrom(request: FastifyRequest): ExpectedRevision | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const parsed = parseIfMatch(String(header));
  if (parsed === undefined) {
    throw new HttpProblem(
      problem(400, 'invalid-if-match', 'If-Match must be * or a list of entity tags, e.g. "3".', {
        errors: [{ field: 'headers.if-match', message: 'must be * or a comma-separated list of entity tags' }],
      }),
    );
  }
  if (parsed === '*') return undefined;
  return parsed.filter((tag) => !tag.weak && /^(0|[1-9]\d*)$/.test(tag.opaque)).map((tag) => BigInt(tag.opaque));
}

/** The write options of an If-Match request: the revisions the client accepts, when it named any. */
export function writeOptionsFrom(request: FastifyRequest): { expectedRevision?: ExpectedRevision } {
  const expectedRevision = expectedRevisionFrom(request);
  return expectedRevision !== undefined ? { expectedRevision } : {};
}
