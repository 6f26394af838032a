import { expect } from 'vitest';
import type { TestHerald } from './test-herald.js';

/**
 * Posts a workflow for the customer on a reservation's confirmation with this channel and message as a new tenant's
 * admin, expects a 400 problem+json, and checks that nothing was recorded. Returns the answer's body.
 */
export async function expectWorkflowRefused(
  herald: TestHerald,
  tenantId: string,
  channel: string,
  message: Record<string, unknown>,
): Promise<string> {
  const response = await herald.app.inject({
    method: 'POST',
    url: '/v1/workflows',
    headers: await herald.keyFor(tenantId),
    payload: {
      name: 'broken',
      enabled: true,
      trigger: { type: 'event', event: 'reservation-confirmed' },
      channel,
      message,
      recipients: { customer: true },
    },
  });
  expect(response.statusCode).toBe(400);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect((await herald.adapters.eventStore.readStream(`settings-${tenantId}+workflows`)).events).toEqual([]);
  return response.body;
}
