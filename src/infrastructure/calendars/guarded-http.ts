import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Outbound HTTP for calendar syncs, bounded and, for addresses a tenant supplies, guarded against SSRF:
 * - `guard`: only https (http when `allowHttp`), no user:password in the URL, and every address the host resolves to
 *   must be public — loopback only with `allowLoopback` (tests), private, link-local, CGNAT, multicast, documentation
 *   and unspecified ranges never. The connection goes to the address that was checked (no second DNS answer).
 * - redirects: followed for GET only, at most `maxRedirects`, each target checked again; headers are not carried to
 *   another origin.
 * - size and time: the body is read up to `maxBytes` (more is an error, the connection is dropped); the whole
 *   exchange, redirects included, has `timeoutMs`.
 */
export interface HttpLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxRedirects: number;
}

export interface GuardOptions {
  readonly allowLoopback: boolean;
  readonly allowHttp: boolean;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: URL;
}

export type HttpFailureCode = 'forbidden-address' | 'network' | 'timeout' | 'too-large';

/** A failure before an HTTP answer; `message` never contains the URL (it may carry a secret). */
export class HttpFailure extends Error {
  constructor(
    readonly code: HttpFailureCode,
    message: string,
  ) {
    super(message);
  }
}

const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Why Herald will not connect to this address, or null when it may. IPv4-mapped IPv6 is judged as IPv4. */
export function refusedAddress(address: string, options: Pick<GuardOptions, 'allowLoopback'>): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const ip = mapped ?? address;
  const family = isIP(ip) === 6 ? 'ipv6' : isIP(ip) === 4 ? 'ipv4' : null;
  if (!family) return 'not an IP address';
  if (LOOPBACK.check(ip, family)) return options.allowLoopback ? null : 'a loopback address';
  if (BLOCKED.check(ip, family)) return 'a private, link-local or reserved address';
  return null;
}

/** Checks a URL a tenant gave before anything is fetched; returns why it is refused, or null. */
export function refusedUrl(url: URL, options: GuardOptions): string | null {
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
    return options.allowHttp ? 'only http(s) URLs are fetched' : 'only https URLs are fetched';
  }
  if (url.username || url.password) return 'a URL with a user name or password is not fetched';
  if (url.hostname === '') return 'the URL has no host';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return refusedAddress(host, options);
  return null;
}

/** A DNS lookup that answers only with addresses the guard accepts (all of them must be acceptable). */
function guardedLookup(options: GuardOptions): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const refused = addresses.map((a) => refusedAddress(a.address, options)).find((reason) => reason !== null);
      if (refused || addresses.length === 0) {
        const failure = new HttpFailure('forbidden-address', `the host resolves to ${refused ?? 'no address'}`);
        return callback(failure as NodeJS.ErrnoException, '', 4);
      }
      if ((lookupOptions as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly limits: HttpLimits;
  /** Present: the URL came from a tenant and is guarded (see above). Absent: an operator-configured endpoint. */
  readonly guard?: GuardOptions;
}

/** One exchange, following redirects (GET). Throws HttpFailure; any HTTP status is an answer. */
export async function sendHttp(request: HttpRequest): Promise<HttpAnswer> {
  const deadline = Date.now() + request.limits.timeoutMs;
  let url = request.url;
  let headers = { ...request.headers };
  for (let hop = 0; ; hop++) {
    if (request.guard) {
      const refused = refusedUrl(url, request.guard);
      if (refused) throw new HttpFailure('forbidden-address', hop === 0 ? refused : `a redirect: ${refused}`);
    }
    const answer = await exchange({ ...request, url, headers }, deadline);
    const location = answer.headers.location;
    if (request.method !== 'GET' || ![301, 302, 303, 307, 308].includes(answer.status) || !location) return answer;
    if (hop >= request.limits.maxRedirects) {
      throw new HttpFailure('forbidden-address', `more than ${request.limits.maxRedirects} redirects`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new HttpFailure('network', 'a redirect to an invalid URL');
    }
    if (next.origin !== url.origin) headers = {};
    url = next;
  }
}

function exchange(request: HttpRequest, deadline: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new HttpFailure('timeout', 'no answer in time'));
    const options: RequestOptions = {
      method: request.method,
      headers: {
        'user-agent': 'Herald calendar sync',
        'accept-encoding': 'identity',
        ...request.headers,
        ...(request.body !== undefined ? { 'content-length': String(Buffer.byteLength(request.body)) } : {}),
      },
      ...(request.guard ? { lookup: guardedLookup(request.guard) } : {}),
    };
    const send = request.url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const fail = (failure: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(failure);
    };
    const req = send(request.url, options, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > request.limits.maxBytes) {
        response.destroy();
        return fail(new HttpFailure('too-large', `the answer is larger than ${request.limits.maxBytes} bytes`));
      }
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.limits.maxBytes) {
          response.destroy();
          fail(new HttpFailure('too-large', `the answer is larger than ${request.limits.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
          url: request.url,
        });
      });
      response.on('error', () => fail(new HttpFailure('network', 'the connection broke while reading the answer')));
    });
    const timer = setTimeout(
      () => fail(new HttpFailure('timeout', `no complete answer within ${request.limits.timeoutMs} ms`)),
      remaining,
    );
    req.on('error', (error: unknown) => {
      if (error instanceof HttpFailure) return fail(error);
      const code = (error as NodeJS.ErrnoException).code;
      fail(new HttpFailure('network', `could not connect (${typeof code === 'string' ? code : 'network error'})`));
    });
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}
