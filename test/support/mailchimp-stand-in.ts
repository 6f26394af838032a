import { createHash } from 'node:crypto';
import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for Mailchimp Marketing API "Add or remove member tags"
 * (`POST /3.0/lists/{list_id}/members/{subscriber_hash}/tags`,
 * https://mailchimp.com/developer/marketing/api/list-member-tags/add-or-remove-member-tags/). It checks the
 * documented request: HTTP Basic with any user name and the API key (401 "API Key Invalid" else), a known audience,
 * the subscriber hash as the MD5 of the lower-cased email, and a JSON body with only `tags` (required: an array of
 * `{ name, status: "active" | "inactive" }`) and `is_syncing` (boolean). Errors are Mailchimp's problem documents
 * `{ type, title, status, detail, instance }`; a member that is not in the audience (`addMember`) is 404
 * "Resource Not Found". 204 No Content when tagged.
 */

export interface MailchimpTagging {
  readonly listId: string;
  readonly email: string;
  readonly tags: readonly { name: string; status: string }[];
}

export interface MailchimpStandIn extends HttpStandIn {
  readonly taggings: readonly MailchimpTagging[];
  readonly violations: readonly string[];
  addMember(email: string): void;
}

export async function startMailchimpStandIn(options: { apiKey: string; listId: string }): Promise<MailchimpStandIn> {
  const taggings: MailchimpTagging[] = [];
  const violations: string[] = [];
  const members = new Map<string, string>();
  const problem = (status: number, title: string, detail: string): StandInAnswer => ({
    status,
    json: {
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title,
      status,
      detail,
      instance: '00000000-0000-4000-8000-000000000000',
    },
  });
  const refuse = (detail: string): StandInAnswer => {
    violations.push(detail);
    return problem(400, 'Invalid Resource', detail);
  };
  const base = await startHttpStandIn({
    failureAnswer: ({ status }) =>
      status === 429
        ? problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.')
        : problem(status, 'Internal Server Error', 'An unexpected internal error has occurred.'),
    handle(request) {
      const match = /^\/3\.0\/lists\/([^/]+)\/members\/([^/]+)\/tags$/.exec(request.path);
      if (request.method !== 'POST' || !match) return problem(404, 'Resource Not Found', 'No such route');
      const auth = String(request.headers.authorization ?? '');
      const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
      if (decoded.slice(decoded.indexOf(':') + 1) !== options.apiKey || !decoded.includes(':')) {
        return problem(
          401,
          'API Key Invalid',
          'Your API key may be invalid, or you\u2019ve attempted to access the wrong datacenter.',
        );
      }
      if (match[1] !== options.listId)
        return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
      if (!/^[0-9a-f]{32}$/.test(match[2]!)) return refuse('subscriber_hash is not an MD5 hex digest');
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse('not JSON');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return refuse('body is not JSON');
      }
      for (const key of Object.keys(body))
        if (key !== 'tags' && key !== 'is_syncing') return refuse(`unknown field ${key}`);
      if (!Array.isArray(body.tags) || body.tags.length === 0) return refuse('tags is required');
      for (const tag of body.tags as Record<string, unknown>[]) {
        if (typeof tag.name !== 'string' || tag.name === '' || tag.name.length > 100) return refuse('tags[].name');
        if (tag.status !== 'active' && tag.status !== 'inactive') return refuse('tags[].status is active or inactive');
        if (Object.keys(tag).some((k) => k !== 'name' && k !== 'status')) return refuse('unknown field in tags[]');
      }
      if (body.is_syncing !== undefined && typeof body.is_syncing !== 'boolean') return refuse('is_syncing');
      const email = members.get(match[2]!);
      if (!email) return problem(404, 'Resource Not Found', 'The requested resource could not be found.');
      const tagging = { listId: match[1]!, email, tags: body.tags as { name: string; status: string }[] };
      return {
        status: 204,
        after: () => {
          taggings.push(tagging);
          base.accepted.push(tagging);
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    taggings,
    violations,
    addMember(email: string) {
      members.set(createHash('md5').update(email.toLowerCase()).digest('hex'), email.toLowerCase());
    },
    reset() {
      resetBase();
      taggings.length = 0;
      violations.length = 0;
    },
  });
}
