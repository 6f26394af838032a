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

/** Calendly's webhook signature header, `t=<unix seconds>,v1=<hex HMAC-SHA256>`, split without regex backtracking. */
export function parseCalendlySignature(header: string): { timestamp: number; signatures: string[] } | null {
  if (header.length > 512) return null;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',', 8)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't') {
      if (!/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (name === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return null;
      signatures.push(value.toLowerCase());
    }
  }
  return timestamp === undefined || signatures.length === 0 ? null : { timestamp, signatures };
}

/** The `v1` Calendly signs: hex HMAC-SHA256 over `<t>.<raw body>` with the webhook signing key. */
export function calendlySignature(signingKey: string, timestamp: number, rawBody: string): string {
  return createHmac('sha256', signingKey).update(`${timestamp}.`).update(rawBody, 'utf8').digest('hex');
}

/** Whether one of the header's `v1` values is the HMAC of this body and timestamp (constant-time comparison). */
export function isValidCalendlySignature(
  signingKey: string,
  parsed: { timestamp: number; signatures: readonly string[] },
  rawBody: string,
): boolean {
  const expected = calendlySignature(signingKey, parsed.timestamp, rawBody);
  return parsed.signatures.some((candidate) => sameSecret(candidate, expected));
}
