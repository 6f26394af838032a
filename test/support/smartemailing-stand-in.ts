import { startHttpStandIn, type HttpStandIn, type StandInAnswer } from './http-stand-in.js';

/**
 * A stand-in for SmartEmailing API v3's sending methods (https://app.smartemailing.cz/docs/api/v3, "Custom
 * campaigns": `POST send/custom-emails-bulk` and `POST send/transactional-emails-bulk`). SmartEmailing publishes no
 * machine-readable schema; the stand-in checks the documented fields as its reference and the maintained SDKs
 * (smartemailing/sdk-php-api-v3-client, keltuo/php-smartemailing) spell them:
 *
 * - HTTP Basic with the user name and API key (401 `{ status: "error", message }` else);
 * - a JSON object with only the documented keys: `sender_credentials` { from, reply_to, sender_name } (e-mail
 *   addresses where they are addresses), `tag`, `tasks` (1..500 of { recipient: { emailaddress }, replace:
 *   [{ key, content }], template_variables, attachments: [{ file_name, content_type, data_base64 }] });
 * - custom e-mails: `email_id` a positive integer naming an e-mail that exists (`addEmail`), 422 otherwise;
 * - transactional e-mails: `email_id` or `message_contents` { subject, html_body, text_body };
 * - 201 `{ status: "created", meta: [], data: [{ id, recipient }] }`.
 *
 * Requests that break the documented shape are answered 422 and recorded in `violations` (suites expect none).
 */

export interface SmartEmailingSend {
  readonly id: string;
  readonly kind: 'custom' | 'transactional';
  readonly recipient: string;
  readonly emailId?: number;
  readonly replace: readonly { key: string; content: string }[];
  readonly body: Record<string, unknown>;
}

export interface SmartEmailingStandIn extends HttpStandIn {
  readonly sends: readonly SmartEmailingSend[];
  readonly violations: readonly string[];
  /** An e-mail prepared in SmartEmailing (custom e-mails name it by id). */
  addEmail(id: number): void;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TOP_KEYS = new Set(['sender_credentials', 'tag', 'email_id', 'message_contents', 'tasks']);
const TASK_KEYS = new Set(['recipient', 'replace', 'template_variables', 'attachments']);
const SENDER_KEYS = new Set(['from', 'reply_to', 'sender_name']);

export async function startSmartEmailingStandIn(options: {
  username: string;
  apiKey: string;
}): Promise<SmartEmailingStandIn> {
  const sends: SmartEmailingSend[] = [];
  const violations: string[] = [];
  const emails = new Set<number>();
  let next = 1;
  const expected = `Basic ${Buffer.from(`${options.username}:${options.apiKey}`).toString('base64')}`;
  const error = (status: number, message: string): StandInAnswer => ({
    status,
    json: { status: 'error', meta: [], message },
  });
  const refuse = (message: string): StandInAnswer => {
    violations.push(message);
    return error(422, message);
  };

  function validate(body: Record<string, unknown>, kind: 'custom' | 'transactional'): string | undefined {
    for (const key of Object.keys(body)) if (!TOP_KEYS.has(key)) return `unknown key ${key}`;
    const sender = body.sender_credentials as Record<string, unknown> | undefined;
    if (typeof sender !== 'object' || sender === null) return 'sender_credentials is required';
    for (const key of Object.keys(sender)) if (!SENDER_KEYS.has(key)) return `unknown key sender_credentials.${key}`;
    if (typeof sender.from !== 'string' || !EMAIL.test(sender.from)) return 'sender_credentials.from is not an e-mail';
    if (typeof sender.reply_to !== 'string' || !EMAIL.test(sender.reply_to)) {
      return 'sender_credentials.reply_to is not an e-mail';
    }
    if (typeof sender.sender_name !== 'string' || sender.sender_name === '') return 'sender_credentials.sender_name';
    if (typeof body.tag !== 'string' || body.tag === '') return 'tag is required';
    if (body.email_id !== undefined && (!Number.isInteger(body.email_id) || (body.email_id as number) < 1)) {
      return 'email_id must be a positive integer';
    }
    if (kind === 'custom' && body.email_id === undefined) return 'email_id is required';
    if (kind === 'custom' && body.message_contents !== undefined) return 'custom e-mails take no message_contents';
    if (kind === 'transactional' && body.email_id === undefined) {
      const contents = body.message_contents as Record<string, unknown> | undefined;
      if (typeof contents !== 'object' || contents === null) return 'email_id or message_contents is required';
      for (const key of ['subject', 'html_body', 'text_body']) {
        if (typeof contents[key] !== 'string') return `message_contents.${key} must be a string`;
      }
      if (Object.keys(contents).some((k) => !['subject', 'html_body', 'text_body'].includes(k))) {
        return 'unknown key in message_contents';
      }
    }
    const tasks = body.tasks;
    if (!Array.isArray(tasks) || tasks.length === 0 || tasks.length > 500) return 'tasks: 1 to 500 tasks';
    for (const task of tasks as Record<string, unknown>[]) {
      for (const key of Object.keys(task)) if (!TASK_KEYS.has(key)) return `unknown key tasks[].${key}`;
      const recipient = task.recipient as Record<string, unknown> | undefined;
      if (typeof recipient?.emailaddress !== 'string' || !EMAIL.test(recipient.emailaddress)) {
        return 'tasks[].recipient.emailaddress is not an e-mail';
      }
      if (task.replace !== undefined) {
        if (!Array.isArray(task.replace)) return 'tasks[].replace must be an array';
        for (const r of task.replace as Record<string, unknown>[]) {
          if (typeof r.key !== 'string' || r.key === '' || typeof r.content !== 'string') {
            return 'tasks[].replace[] is { key, content } of strings';
          }
        }
      }
      if (task.attachments !== undefined) {
        if (!Array.isArray(task.attachments)) return 'tasks[].attachments must be an array';
        for (const a of task.attachments as Record<string, unknown>[]) {
          if (typeof a.file_name !== 'string' || typeof a.content_type !== 'string') return 'attachment names';
          if (typeof a.data_base64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.data_base64)) {
            return 'attachments[].data_base64 is not base64';
          }
        }
      }
    }
    return undefined;
  }

  const base = await startHttpStandIn({
    failureAnswer: ({ status, retryAfterSeconds }) => ({
      ...error(status, status === 429 ? 'Too many requests' : 'Internal server error'),
      ...(retryAfterSeconds !== undefined ? { headers: { 'retry-after': String(retryAfterSeconds) } } : {}),
    }),
    handle(request) {
      const match = /^\/send\/(custom-emails-bulk|transactional-emails-bulk)$/.exec(request.path);
      if (request.method !== 'POST' || !match) return error(404, 'Not found');
      if (request.headers.authorization !== expected) return error(401, 'Invalid credentials');
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return refuse('content-type must be application/json');
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body) as Record<string, unknown>;
      } catch {
        return refuse('body is not JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse('body is not an object');
      const kind = match[1] === 'custom-emails-bulk' ? 'custom' : 'transactional';
      const problem = validate(body, kind);
      if (problem) return refuse(problem);
      // A documented refusal, not a contract violation: the e-mail does not exist in this account.
      if (body.email_id !== undefined && !emails.has(body.email_id as number)) {
        return error(422, `E-mail ${String(body.email_id)} not found`);
      }
      const tasks = body.tasks as {
        recipient: { emailaddress: string };
        replace?: { key: string; content: string }[];
      }[];
      const created = tasks.map((task) => ({
        id: `se-${(next++).toString(16).padStart(8, '0')}`,
        recipient: task.recipient.emailaddress,
        replace: task.replace ?? [],
      }));
      return {
        status: 201,
        json: { status: 'created', meta: [], data: created.map(({ id, recipient }) => ({ id, recipient })) },
        after: () => {
          for (const c of created) {
            sends.push({
              ...c,
              kind,
              ...(body.email_id !== undefined ? { emailId: body.email_id as number } : {}),
              body,
            });
            base.accepted.push(c.id);
          }
        },
      };
    },
  });

  const resetBase = base.reset.bind(base);
  return Object.assign(base, {
    sends,
    violations,
    addEmail(id: number) {
      emails.add(id);
    },
    reset() {
      resetBase();
      sends.length = 0;
      violations.length = 0;
    },
  });
}
