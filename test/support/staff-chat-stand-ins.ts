import { startHttpStandIn, type HttpStandIn, type StandInAnswer, type StandInRequest } from './http-stand-in.js';

/**
 * Loopback stand-ins of the three staff-chat webhooks, each checking the fields its provider documents and
 * answering in its documented shapes. The webhook URL's path is the secret: a request to another path is refused
 * the way the provider refuses a wrong or deleted webhook.
 *
 * - Slack incoming webhooks (https://api.slack.com/messaging/webhooks, Block Kit reference): JSON with `text` and/or
 *   `blocks` (at most 50); a `header` block's text is `plain_text` of at most 150 characters, a `section`'s text
 *   `plain_text` or `mrkdwn` of at most 3000; only the documented top-level fields. Answers `200 ok` in text/plain;
 *   errors are a word in the body: 400 `invalid_payload` / `invalid_blocks` / `no_text`, 403 `invalid_token`,
 *   404 `no_service`, 410 `channel_is_archived`; 429 `rate_limited` with Retry-After.
 * - Microsoft Teams Workflows webhook ("Send webhook alerts to a channel"): `{ type: 'message', attachments: [...] }`
 *   with one attachment of contentType `application/vnd.microsoft.card.adaptive` whose content is an Adaptive Card
 *   (`type: 'AdaptiveCard'`, a version, a `body` of elements with a `type`; TextBlocks need `text`). Answers 202
 *   with no body; 400 `{ error: { code: 'InvalidRequestContent' } }`, 401 `{ error: { code: 'DirectApiAuthorizationRequired' } }`
 *   for a wrong signature, 429 with Retry-After.
 * - Discord Execute Webhook (https://discord.com/developers/docs/resources/webhook#execute-webhook): one of
 *   `content`, `embeds`, `components`, `file`, `poll`; `content` ≤ 2000, at most 10 embeds, title ≤ 256,
 *   description ≤ 4096, all embeds' text ≤ 6000. `?wait=true` answers 200 with the message (snowflake `id`), else 204.
 *   Errors `{ message, code }`: 404 10015 Unknown Webhook, 401 50027 Invalid Webhook Token, 400 50035 Invalid Form
 *   Body; 429 `{ message, retry_after, global }` with a Retry-After header (rate-limits topic).
 */

export interface StaffChatStandIn extends HttpStandIn {
  /** The webhook URL to configure (its path is the secret). */
  readonly webhookUrl: string;
  /** A URL with the same host and a wrong secret. */
  readonly wrongWebhookUrl: string;
  /** Posts accepted, as the provider would show them: the title and body the room sees. */
  readonly posts: readonly { title: string; body: string; raw: Record<string, unknown> }[];
  readonly violations: readonly string[];
}

type Provider = 'slack' | 'teams' | 'discord';

const SECRET_PATHS: Record<Provider, { good: string; wrong: string }> = {
  slack: { good: '/services/T0HERALD/B0ALERTS/abcdefghijklmnopqrstuvwx', wrong: '/services/T0HERALD/B0ALERTS/wrong' },
  teams: {
    good: '/workflows/4f1c0b9e/triggers/manual/paths/invoke?api-version=1&sig=good-signature-0123456789',
    wrong: '/workflows/4f1c0b9e/triggers/manual/paths/invoke?api-version=1&sig=wrong',
  },
  discord: {
    good: '/api/webhooks/112233445566778899/good-token-0123456789abcdef',
    wrong: '/api/webhooks/112233445566778899/wrong-token',
  },
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export async function startStaffChatStandIn(provider: Provider): Promise<StaffChatStandIn> {
  const posts: { title: string; body: string; raw: Record<string, unknown> }[] = [];
  const violations: string[] = [];
  let snowflake = 1_180_000_000_000_000_000n;
  const paths = SECRET_PATHS[provider];
  const goodPath = paths.good.split('?')[0]!;
  const goodSig = new URLSearchParams(paths.good.split('?')[1] ?? '').get('sig');

  const parse = (request: StandInRequest): Record<string, unknown> | undefined => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      violations.push(`content-type ${String(request.headers['content-type'])}`);
      return undefined;
    }
    try {
      const body = JSON.parse(request.body) as unknown;
      return isObject(body) ? body : undefined;
    } catch {
      return undefined;
    }
  };
  const record = (title: string, body: string, raw: Record<string, unknown>) => () => {
    posts.push({ title, body, raw });
  };

  const slack = (request: StandInRequest): StandInAnswer => {
    if (request.path !== goodPath)
      return {
        status: request.path.startsWith('/services/') ? 403 : 404,
        text: request.path.startsWith('/services/') ? 'invalid_token' : 'no_service',
      };
    const body = parse(request);
    if (!body) return { status: 400, text: 'invalid_payload' };
    const allowed = new Set([
      'text',
      'blocks',
      'attachments',
      'thread_ts',
      'mrkdwn',
      'unfurl_links',
      'unfurl_media',
      'username',
      'icon_emoji',
      'icon_url',
      'channel',
    ]);
    for (const key of Object.keys(body)) if (!allowed.has(key)) violations.push(`slack: undocumented field ${key}`);
    if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return { status: 400, text: 'no_text' };
    const blocks = (body.blocks ?? []) as unknown[];
    if (!Array.isArray(blocks) || blocks.length > 50) return { status: 400, text: 'invalid_blocks' };
    let title = '';
    let text = '';
    for (const block of blocks) {
      if (!isObject(block) || !isObject(block.text)) return { status: 400, text: 'invalid_blocks' };
      const t = block.text;
      if (typeof t.text !== 'string' || t.text.length === 0) return { status: 400, text: 'invalid_blocks' };
      if (block.type === 'header') {
        if (t.type !== 'plain_text' || t.text.length > 150) return { status: 400, text: 'invalid_blocks' };
        title = t.text;
      } else if (block.type === 'section') {
        if ((t.type !== 'plain_text' && t.type !== 'mrkdwn') || t.text.length > 3000) {
          return { status: 400, text: 'invalid_blocks' };
        }
        text = t.text;
      } else {
        violations.push(`slack: block type ${String(block.type)} not expected from Herald`);
      }
    }
    return { status: 200, text: 'ok', after: record(title, text, body) };
  };

  const teams = (request: StandInRequest): StandInAnswer => {
    if (request.path !== goodPath || request.search.get('sig') !== goodSig) {
      return {
        status: 401,
        json: { error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated.' } },
      };
    }
    const invalid: StandInAnswer = {
      status: 400,
      json: { error: { code: 'InvalidRequestContent', message: 'The request content is not valid.' } },
    };
    const body = parse(request);
    if (!body || body.type !== 'message' || !Array.isArray(body.attachments) || body.attachments.length !== 1)
      return invalid;
    const attachment = body.attachments[0] as unknown;
    if (!isObject(attachment) || attachment.contentType !== 'application/vnd.microsoft.card.adaptive') return invalid;
    const card = attachment.content;
    if (
      !isObject(card) ||
      card.type !== 'AdaptiveCard' ||
      typeof card.version !== 'string' ||
      !Array.isArray(card.body)
    ) {
      return invalid;
    }
    const texts: string[] = [];
    for (const element of card.body as unknown[]) {
      if (!isObject(element) || typeof element.type !== 'string') return invalid;
      if (element.type === 'TextBlock') {
        if (typeof element.text !== 'string') return invalid;
        texts.push(element.text);
      }
    }
    return { status: 202, after: record(texts[0] ?? '', texts.slice(1).join('\n'), body) };
  };

  const discord = (request: StandInRequest): StandInAnswer => {
    if (!request.path.startsWith('/api/webhooks/'))
      return { status: 404, json: { message: '404: Not Found', code: 0 } };
    if (request.path !== goodPath) return { status: 401, json: { message: 'Invalid Webhook Token', code: 50027 } };
    const invalid = (why: string): StandInAnswer => ({
      status: 400,
      json: { message: 'Invalid Form Body', code: 50035, errors: { why } },
    });
    const body = parse(request);
    if (!body) return invalid('not JSON');
    const allowed = new Set([
      'content',
      'username',
      'avatar_url',
      'tts',
      'embeds',
      'allowed_mentions',
      'components',
      'flags',
      'thread_name',
      'applied_tags',
      'poll',
      'attachments',
    ]);
    for (const key of Object.keys(body)) if (!allowed.has(key)) violations.push(`discord: undocumented field ${key}`);
    if (
      body.content === undefined &&
      body.embeds === undefined &&
      body.components === undefined &&
      body.poll === undefined
    ) {
      return invalid('Cannot send an empty message');
    }
    if (typeof body.content === 'string' && body.content.length > 2000) return invalid('content too long');
    const embeds = (body.embeds ?? []) as unknown[];
    if (!Array.isArray(embeds) || embeds.length > 10) return invalid('embeds');
    let total = 0;
    let title = '';
    let description = '';
    for (const embed of embeds) {
      if (!isObject(embed)) return invalid('embed');
      if (embed.title !== undefined && (typeof embed.title !== 'string' || embed.title.length > 256))
        return invalid('embed title');
      if (
        embed.description !== undefined &&
        (typeof embed.description !== 'string' || embed.description.length > 4096)
      ) {
        return invalid('embed description');
      }
      total += String(embed.title ?? '').length + String(embed.description ?? '').length;
      title ||= String(embed.title ?? '');
      description ||= String(embed.description ?? '');
    }
    if (total > 6000) return invalid('embeds over 6000 characters');
    if (body.allowed_mentions !== undefined && !isObject(body.allowed_mentions)) return invalid('allowed_mentions');
    const after = record(title, description, body);
    if (request.search.get('wait') !== 'true') return { status: 204, after };
    snowflake += 1n;
    return {
      status: 200,
      json: { id: String(snowflake), type: 0, content: body.content ?? '', embeds, webhook_id: '112233445566778899' },
      after,
    };
  };

  const failureAnswer = ({
    status,
    retryAfterSeconds,
  }: {
    status: number;
    retryAfterSeconds?: number;
  }): StandInAnswer => {
    const header = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : undefined;
    if (provider === 'slack') {
      return {
        status,
        text: status === 429 ? 'rate_limited' : 'internal_error',
        ...(header ? { headers: header } : {}),
      };
    }
    if (provider === 'teams') {
      return {
        status,
        json: {
          error: {
            code: status === 429 ? 'WorkflowTriggerIsThrottled' : 'ServiceUnavailable',
            message: 'Try again later.',
          },
        },
        ...(header ? { headers: header } : {}),
      };
    }
    // Discord's 429 tells the wait in the body too (seconds, a float); the header is the same rounded up.
    return status === 429
      ? {
          status,
          json: { message: 'You are being rate limited.', retry_after: retryAfterSeconds ?? 1, global: false },
          ...(header ? { headers: header } : {}),
        }
      : { status, json: { message: 'Service Unavailable', code: 0 } };
  };

  const server = await startHttpStandIn({
    handle: (request) => {
      if (request.method !== 'POST') return { status: 405, text: 'method not allowed' };
      return provider === 'slack' ? slack(request) : provider === 'teams' ? teams(request) : discord(request);
    },
    failureAnswer,
  });
  return Object.assign(server, {
    webhookUrl: `${server.url}${paths.good}`,
    wrongWebhookUrl: `${server.url}${paths.wrong}`,
    posts,
    violations,
  });
}
