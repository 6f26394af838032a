/** One Standard Webhooks request: the transport signs `${id}.${timestamp}.${body}` with the secret and posts it. */
export interface WebhookRequest {
  readonly url: string;
  /** `webhook-id`. */
  readonly id: string;
  /** `webhook-timestamp`: seconds since the epoch. */
  readonly timestamp: number;
  readonly body: string;
  /** `whsec_<base64>`; never logged. */
  readonly secret: string;
}

export type WebhookAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly retryAfterMs?: number; readonly durationMs: number }
  /** No HTTP answer: refused connection, timeout, an address the guard refuses. `reason` never holds the URL. */
  | { readonly kind: 'failure'; readonly reason: string; readonly durationMs: number };

/**
 * Outgoing webhooks' HTTP: bounded in time and size, guarded against SSRF at connect time (the DNS answer is
 * checked), signing per Standard Webhooks. Secrets are made here (random bytes are infrastructure).
 */
export interface WebhookTransport {
  send(request: WebhookRequest): Promise<WebhookAnswer>;
  /** Why a URL is refused before anything is sent (scheme, literal private addresses), or null. */
  refusal(url: string): string | null;
  /** A new signing secret, `whsec_` + base64 of 32 random bytes. */
  newSecret(): string;
}
