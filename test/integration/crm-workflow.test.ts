import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotStandIn, type HubSpotStandIn } from '../support/hubspot-stand-in.js';
import { expectWorkflowRefused } from '../support/refused-workflow.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

// Channel crm end to end: a tenant configures its HubSpot account and a workflow that records a custom event on the
// customer's contact when a reservation is confirmed; the tenant's HubSpot workflow turns it into its own message.
// Herald talks to the stand-in over real HTTP; the delivery is in the audit trail like any other.

const TOKEN = 'pat-eu1-tenant-0123456789abcdef';
const EVENT = 'pe4711_booking_confirmed';
let herald: TestHerald;
let hubspot: HubSpotStandIn;

beforeAll(async () => {
  hubspot = await startHubSpotStandIn({ accessToken: TOKEN });
  hubspot.defineEvent(EVENT, ['customerName', 'serviceName', 'start']);
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.stop();
  await hubspot?.close();
});

describe('channel crm with HubSpot', () => {
  it('a confirmed reservation records the workflow’s event on the customer’s contact, once, in the audit trail', async () => {
    const auth = await herald.keyFor('crm-spa');
    const configured = await herald.app.inject({
      method: 'PUT',
      url: '/v1/channels/crm',
      headers: auth,
      payload: {
        providers: [{ provider: 'hubspot', settings: { apiUrl: hubspot.url }, credentials: { accessToken: TOKEN } }],
      },
    });
    expect(configured.statusCode, configured.body).toBe(200);
    expect(configured.body).not.toContain(TOKEN);

    const workflow = await herald.app.inject({
      method: 'POST',
      url: '/v1/workflows',
      headers: auth,
      payload: {
        name: 'booking into HubSpot',
        enabled: true,
        trigger: { type: 'event', event: 'reservation-confirmed' },
        channel: 'crm',
        message: { type: 'external', system: 'crm', template: EVENT, parameters: ['customerName', 'serviceName'] },
        recipients: { customer: true },
      },
    });
    expect(workflow.statusCode, workflow.body).toBe(201);

    const reservationId = await herald.reserve(auth, {
      customer: { name: 'Ada Lovelace', email: 'ada@example.com', locale: 'en-GB' },
    });
    await hubspot.waitForAccepted(1);
    expect(hubspot.occurrences).toEqual([
      expect.objectContaining({
        eventName: EVENT,
        email: 'ada@example.com',
        properties: { customerName: 'Ada Lovelace', serviceName: 'Sauna' },
      }),
    ]);
    expect(hubspot.violations).toEqual([]);

    await herald.settle();
    const deliveries = await herald.app.inject({
      method: 'GET',
      url: `/v1/deliveries?reservationId=${reservationId}&limit=200`,
      headers: auth,
    });
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    const crm = (
      deliveries.json().items as {
        channel: string;
        status: string;
        maskedRecipient: string;
        providerMessageId?: string;
        history: { status: string; provider?: string }[];
      }[]
    ).filter((d) => d.channel === 'crm');
    expect(crm).toEqual([
      expect.objectContaining({
        status: 'sent',
        maskedRecipient: 'a***@example.com',
        providerMessageId: hubspot.occurrences[0]!.uuid,
      }),
    ]);
    expect(crm[0]!.history.at(-1)).toMatchObject({ status: 'sent', provider: 'hubspot' });
  });

  it('a crm workflow with a subject is refused with problem+json and changes nothing', async () => {
    await expectWorkflowRefused(herald, 'crm-invalid', 'crm', {
      type: 'custom',
      subject: 'Hello',
      text: 'Hello {{customerName}}',
    });
  });
});
