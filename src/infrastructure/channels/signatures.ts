import { createHmac, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two strings (lengths first: the length of a secret or a MAC is not secret). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `sha256=<hex HMAC-SHA256 of the raw body>`, as Meta signs webhooks in X-Hub-Signature-256. */
export function hubSignature256(secret: string, rawBody: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
