import type { SendOutcome } from '../../application/ports/channel.port.js';
import { parseRetryAfter } from '../http/retry-after.js';

/**
 * What the HTTP adapters of the channel port share: one request with a timeout, and the mapping of HTTP answers to
 * outcomes. Nothing here retries: retries, their timing and failover belong to the dispatcher.
 */

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The body as text, at most `MAX_ANSWER_BYTES` of it (providers answer in a few hundred bytes). */
  readonly text: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/** Codes of failures on the way to the provider: nothing was refused, so a later attempt may get through. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export type HttpRequestResult =
  { readonly ok: true; readonly answer: HttpAnswer } | { readonly ok: false; readonly outcome: SendOutcome };

/**
 * Sends one request. A request that never got an answer (refused, reset, timed out) is a retryable outcome; an
 * answer of any status is returned for the adapter to read.
 */
export async function request(
  url: string,
  init: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string },
  timeoutMs: number,
  provider: string,
): Promise<HttpRequestResult> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    const code = cause?.code ?? (error as { name?: string }).name ?? 'error';
    const timedOut = code === 'TimeoutError' || code === 'AbortError';
    // No answer: the provider refused nothing, so the request may pass later. Network codes are named as such;
    // anything unknown is retried too (the attempt budget bounds it) rather than failing a message for good.
    const what = timedOut ? `no answer within ${timeoutMs} ms` : NETWORK_CODES.has(code) ? code : `${code} (no answer)`;
    return { ok: false, outcome: { outcome: 'retryable', reason: `${provider} request failed: ${what}`, code } };
  }
  const buffer = new Uint8Array(await response.arrayBuffer());
  const text = new TextDecoder().decode(buffer.subarray(0, MAX_ANSWER_BYTES));
  return { ok: true, answer: { status: response.status, headers: response.headers, text } };
}

/**
 * The outcome of an HTTP error answer. 408, 425, 429 and 5xx: retryable, with the provider's Retry-After (seconds
 * or an HTTP-date) when it sent one or `retryAfterMs` when the body told it. 401 and 403: permanent — wrong
 * credentials fail every attempt until an operator fixes them, and retrying only hides the cause. Other 4xx:
 * permanent, the request itself is refused.
 */
export function errorOutcome(
  answer: HttpAnswer,
  now: Date,
  reason: string,
  code?: string,
  retryAfterMs?: number,
): Exclude<SendOutcome, { outcome: 'accepted' }> {
  const retryable = answer.status === 408 || answer.status === 425 || answer.status === 429 || answer.status >= 500;
  const withCode = code !== undefined ? { code } : { code: String(answer.status) };
  if (!retryable) return { outcome: 'permanent', reason, ...withCode };
  const after = parseRetryAfter(answer.headers.get('retry-after'), now) ?? retryAfterMs;
  return { outcome: 'retryable', reason, ...withCode, ...(after !== undefined ? { retryAfterMs: after } : {}) };
}

/** JSON of an answer, or undefined when it is not JSON. */
export function jsonOf(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    return undefined;
  }
}

/** Joins a configured base URL and a path without doubling or losing a slash. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
