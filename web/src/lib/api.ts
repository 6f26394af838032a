import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '../api/schema.js';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

/** The API of this origin, typed by the OpenAPI document (web/src/api/schema.d.ts). */
export function apiClient(middleware: Middleware[] = []) {
  const client = createClient<paths>({ baseUrl: location.origin });
  for (const m of middleware) client.use(m);
  return client;
}

/** Sends the customer's link token with every request of the customer's page. */
export function customerToken(token: string): Middleware {
  return {
    onRequest({ request }) {
      request.headers.set('x-customer-token', token);
      return request;
    },
  };
}

/** Sends the session's CSRF token with every write of the staff console. */
export function csrf(token: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const value = token();
      if (value && request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', value);
      return request;
    },
  };
}

/** A problem+json answer's text for people: its detail, else its title. */
export function problemText(error: unknown, fallback: string): string {
  if (error && typeof error === 'object') {
    const problem = error as Partial<Problem>;
    if (typeof problem.detail === 'string' && problem.detail) return problem.detail;
    if (typeof problem.title === 'string' && problem.title) return problem.title;
  }
  return fallback;
}

export function problemCode(error: unknown): string | undefined {
  return error && typeof error === 'object' && typeof (error as Problem).code === 'string'
    ? (error as Problem).code
    : undefined;
}

export function newRequestId(): string {
  return crypto.randomUUID();
}
