import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmartEmailingStandIn, type SmartEmailingStandIn } from '../support/smartemailing-stand-in.js';
import { expectWorkflowRefused } from '../support/refused-workflow.js';
import { startTestHerald, type TestHerald } from '../support/test-herald.js';

// Seed 001: "custom e-mails sent through SmartEmailing". A tenant configures its own SmartEmailing account as its
// email provider and a workflow whose message is an e-mail prepared in SmartEmailing; a confirmed reservation then
// sends that e-mail to the customer with the placeholders as replacements, over real HTTP to the stand-in, and the
// delivery is recorded as sent by provider smartemailing.

const SE = { username: 'owner@spa.example', apiKey: 'se-tenant-key-0123456789abcdef' };
const EMAIL_ID = 812;
let herald: TestHerald;
let standIn: SmartEmailingStandIn;

beforeAll(async () => {
  standIn = await startSmartEmailingStandIn(SE);
  standIn.addEmail(EMAIL_ID);
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.stop();
  await standIn?.close();
});

describe('SmartEmailing as a tenant’s email provider', () => {
  it('a workflow’s SmartEmailing e-mail reaches the customer with replacements, recorded as sent', async () => {
    const auth = await herald.keyFor('se-spa');
    const configured = await herald.app.inject({
      method: 'PUT',
      url: '/v1/channels/email',
      headers: auth,
      payload: {
        providers: [
          {
            provider: 'smartemailing',
            settings: { username: SE.username, apiUrl: standIn.url },
            credentials: { apiKey: SE.apiKey },
          },
        ],
      },
    });
    expect(configured.statusCode, configured.body).toBe(200);
    // The key is sealed: the API names it but never shows it.
    expect(configured.body).not.toContain(SE.apiKey);

    const workflow = await herald.app.inject({
      method: 'POST',
      url: '/v1/workflows',
      headers: auth,
      payload: {
        name: 'welcome via SmartEmailing',
        enabled: true,
        trigger: { type: 'event', event: 'reservation-confirmed' },
        channel: 'email',
        message: {
          type: 'external',
          system: 'smartemailing',
          template: String(EMAIL_ID),
          parameters: ['customerName', 'serviceName'],
        },
        recipients: { customer: true },
      },
    });
    expect(workflow.statusCode, workflow.body).toBe(201);

    const reservationId = await herald.reserve(auth, {
      customer: { name: 'Ada Lovelace', email: 'ada@example.com', locale: 'en-GB' },
    });
    await standIn.waitForAccepted(1);
    const custom = standIn.sends.filter((s) => s.kind === 'custom');
    expect(custom).toEqual([
      expect.objectContaining({
        recipient: 'ada@example.com',
        emailId: EMAIL_ID,
        replace: [
          { key: 'customerName', content: 'Ada Lovelace' },
          { key: 'serviceName', content: 'Sauna' },
        ],
      }),
    ]);
    // The ready-made confirmation goes through the same account, as a transactional e-mail with Herald's text.
    await standIn.waitForAccepted(2);
    const transactional = standIn.sends.filter((s) => s.kind === 'transactional');
    expect(transactional).toEqual([expect.objectContaining({ recipient: 'ada@example.com' })]);
    expect(transactional[0]!.body.message_contents).toMatchObject({ subject: expect.stringContaining('Sauna') });
    expect(standIn.violations).toEqual([]);

    await herald.settle();
    const deliveries = await herald.app.inject({
      method: 'GET',
      url: `/v1/deliveries?reservationId=${reservationId}&limit=200`,
      headers: auth,
    });
    expect(deliveries.statusCode, deliveries.body).toBe(200);
    const items = deliveries.json().items as {
      channel: string;
      status: string;
      workflowId?: string;
      providerMessageId?: string;
      history: { status: string; provider?: string }[];
    }[];
    const viaWorkflow = items.filter((d) => d.workflowId === workflow.json().workflowId);
    expect(viaWorkflow).toEqual([
      expect.objectContaining({ channel: 'email', status: 'sent', providerMessageId: custom[0]!.id }),
    ]);
    expect(viaWorkflow[0]!.history.at(-1)).toMatchObject({ status: 'sent', provider: 'smartemailing' });
  });

  it('refuses a SmartEmailing template that is not an e-mail id, and changes nothing', async () => {
    const body = await expectWorkflowRefused(herald, 'se-invalid', 'email', {
      type: 'external',
      system: 'smartemailing',
      template: 'd-0123',
    });
    expect(body).toContain('message.template');
  });
});
