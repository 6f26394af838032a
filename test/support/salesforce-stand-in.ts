import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for the Salesforce REST API's Composite resource (`POST /services/data/vXX.X/composite`,
 * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm), for
 * the one shape Herald sends: a SOQL query for a Contact by Email, then a Task referencing its id. It checks the
 * documented request: Bearer token (401 `[{ errorCode: "INVALID_SESSION_ID" }]` else), `allOrNone` boolean,
 * `compositeRequest` of at most 25 sub-requests with `method`, `url` under the same API version, a unique
 * `referenceId` (letters, digits, underscore) and a `body` for POST; the query names Contact by Email; the Task's
 * fields are Task fields (`Subject` ≤ 255, `Description`, `WhoId`, `Status`, `Priority`, `ActivityDate` as a date).
 * A reference that resolves to nothing (no such contact) fails the Task with `PROCESSING_HALTED` / "Invalid
 * reference specified", as Salesforce answers. 200 `{ compositeResponse: [...] }`; the Task gets an id `00T…`.
 */

export interface SalesforceTask {
  readonly id: string;
  readonly whoId: string;
  readonly fields: Record<string, unknown>;
}

export interface SalesforceStandIn extends HttpStandIn {
  readonly tasks: readonly SalesforceTask[];
  readonly violations: readonly string[];
  /** A Contact with this email; returns its id. */
  addContact(email: string): string;
}

const TASK_FIELDS = new Set(['Subject', 'Description', 'WhoId', 'Status', 'Priority', 'ActivityDate', 'WhatId']);
const QUERY = /^SELECT Id FROM Contact WHERE Email = '((?:[^'\\]|\\.)*)'(?: ORDER BY CreatedDate)?(?: LIMIT \d+)?$/;

export async function startSalesforceStandIn(options: {
  accessToken: string;
  apiVersion?: string;
}): Promise<SalesforceStandIn> {
  const version = options.apiVersion ?? 'v60.0';
  const root = `/services/data/${version}`;
  const tasks: SalesforceTask[] = [];
  const violations: string[] = [];
  const contacts = new Map<string, string>();
  let next = 1;
  const errors = (status: number, errorCode: string, message: string): StandInAnswer => ({
    status,
    json: [{ errorCode, message }],
  });
  const refuse = (message: string): StandInAnswer => {
    violations.push(message);
    return errors(400, 'JSON_PARSER_ERROR', message);
  };
  const base = await startHttpStandIn({
    failureAnswer: ({ status }) =>
      status === 429
        ? errors(429, 'REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.')
        : errors(status, 'SERVER_UNAVAILABLE', 'Server unavailable'),
    handle(request) {
      if (request.method !== 'POST' || request.path !== `${root}/composite`) {
        return errors(404, 'NOT_FOUND', 'The requested resource does not exist');
      }
      if (request.headers.authorization !== `Bearer ${options.accessToken}`) {
        return errors(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse('not JSON');
      let body: { allOrNone?: unknown; compositeRequest?: unknown };
      try {
        body = JSON.parse(request.body) as typeof body;
      } catch {
        return refuse('body is not JSON');
      }
      if (Object.keys(body).some((k) => k !== 'allOrNone' && k !== 'compositeRequest' && k !== 'collateSubrequests')) {
        return refuse('unknown field in the composite request');
      }
      if (body.allOrNone !== undefined && typeof body.allOrNone !== 'boolean') return refuse('allOrNone is a boolean');
      const subs = body.compositeRequest as { method?: string; url?: string; referenceId?: string; body?: unknown }[];
      if (!Array.isArray(subs) || subs.length === 0 || subs.length > 25) return refuse('compositeRequest: 1 to 25');
      const references = new Map<string, unknown>();
      const responses: { body: unknown; httpHeaders: object; httpStatusCode: number; referenceId: string }[] = [];
      let halted = false;
      const tasksHere: SalesforceTask[] = [];
      for (const sub of subs) {
        if (typeof sub.referenceId !== 'string' || !/^[A-Za-z0-9_]{1,80}$/.test(sub.referenceId)) {
          return refuse('referenceId: letters, digits, underscore');
        }
        if (references.has(sub.referenceId)) return refuse('referenceId must be unique');
        if (typeof sub.url !== 'string' || !sub.url.startsWith(`${root}/`)) return refuse('url under the API version');
        const ref = sub.referenceId;
        if (halted) {
          responses.push({
            body: [{ errorCode: 'PROCESSING_HALTED', message: 'The transaction was rolled back.' }],
            httpHeaders: {},
            httpStatusCode: 400,
            referenceId: ref,
          });
          continue;
        }
        if (sub.method === 'GET' && sub.url.startsWith(`${root}/query?q=`)) {
          const soql = decodeURIComponent(sub.url.slice(`${root}/query?q=`.length).replace(/\+/g, ' '));
          const match = QUERY.exec(soql);
          if (!match) return refuse(`unexpected SOQL: ${soql}`);
          const email = match[1]!.replace(/\\(.)/g, '$1').toLowerCase();
          const id = contacts.get(email);
          const result = {
            totalSize: id ? 1 : 0,
            done: true,
            records: id ? [{ attributes: { type: 'Contact', url: `${root}/sobjects/Contact/${id}` }, Id: id }] : [],
          };
          references.set(ref, result);
          responses.push({ body: result, httpHeaders: {}, httpStatusCode: 200, referenceId: ref });
          continue;
        }
        if (sub.method === 'POST' && sub.url === `${root}/sobjects/Task`) {
          const fields = sub.body as Record<string, unknown>;
          if (typeof fields !== 'object' || fields === null) return refuse('a POST sub-request needs a body');
          for (const key of Object.keys(fields)) if (!TASK_FIELDS.has(key)) return refuse(`Task has no field ${key}`);
          if (typeof fields.Subject !== 'string' || fields.Subject.length > 255) return refuse('Subject ≤ 255');
          if (fields.ActivityDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(String(fields.ActivityDate))) {
            return refuse('ActivityDate is a date');
          }
          let whoId = fields.WhoId;
          const reference = typeof whoId === 'string' ? /^@\{(\w+)\.records\[0\]\.Id\}$/.exec(whoId) : null;
          if (reference) {
            const source = references.get(reference[1]!) as { records?: { Id: string }[] } | undefined;
            whoId = source?.records?.[0]?.Id;
            if (whoId === undefined) {
              responses.push({
                body: [
                  {
                    errorCode: 'PROCESSING_HALTED',
                    message: `Invalid reference specified. No value for ${reference[1]}.records[0].Id found in ${reference[1]}.`,
                  },
                ],
                httpHeaders: {},
                httpStatusCode: 400,
                referenceId: ref,
              });
              halted = body.allOrNone === true;
              continue;
            }
          }
          const id = `00T${String(next++).padStart(15, '0')}`;
          tasksHere.push({ id, whoId: String(whoId), fields });
          responses.push({
            body: { id, success: true, errors: [] },
            httpHeaders: { Location: `${root}/sobjects/Task/${id}` },
            httpStatusCode: 201,
            referenceId: ref,
          });
          continue;
        }
        return refuse(`unexpected sub-request ${sub.method} ${sub.url}`);
      }
      // allOrNone: nothing is kept when a sub-request failed.
      const keep = !(body.allOrNone === true && responses.some((r) => r.httpStatusCode >= 300));
      return {
        status: 200,
        json: { compositeResponse: responses },
        after: () => {
          if (!keep) return;
          for (const task of tasksHere) {
            tasks.push(task);
            base.accepted.push(task);
          }
        },
      };
    },
  });
  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    tasks,
    violations,
    addContact(email: string) {
      const id = `003${String(next++).padStart(15, '0')}`;
      contacts.set(email.toLowerCase(), id);
      return id;
    },
    reset() {
      resetBase();
      tasks.length = 0;
      violations.length = 0;
    },
  });
}
