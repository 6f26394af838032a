import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../src/application/ports/channel.port.js';
import {
  createActiveCampaignCrmChannel,
  createHubSpotCrmChannel,
  createIntercomCrmChannel,
  createMailchimpCrmChannel,
  createSalesforceCrmChannel,
  occurrenceUuid,
} from '../../src/infrastructure/channels/crm-channels.js';
import { createSmartEmailingEmailChannel } from '../../src/infrastructure/channels/smartemailing-email-channel.js';
import { startActiveCampaignStandIn, type ActiveCampaignStandIn } from '../support/activecampaign-stand-in.js';
import { startHubSpotStandIn, type HubSpotStandIn } from '../support/hubspot-stand-in.js';
import { startIntercomStandIn, type IntercomStandIn } from '../support/intercom-stand-in.js';
import { startMailchimpStandIn, type MailchimpStandIn } from '../support/mailchimp-stand-in.js';
import { startSalesforceStandIn, type SalesforceStandIn } from '../support/salesforce-stand-in.js';
import { startSmartEmailingStandIn, type SmartEmailingStandIn } from '../support/smartemailing-stand-in.js';
import { channelPortContract } from './channel-port.contract.js';

const clock = { now: () => new Date() };
const base = (n: number): Omit<OutboundMessage, 'channel' | 'to' | 'content'> => ({
  tenantId: 'contract',
  notificationId: `contract-${n}`,
  idempotencyKey: `contract-${n}`,
});

// ---------------------------------------------------------------------------------------------------------------
// SmartEmailing (seed 001): a prepared custom e-mail with replacements; any other e-mail as a transactional one.
const SE = { username: 'desk@example.com', apiKey: 'se-contract-key-0123456789abcdef' };
const SE_EMAIL_ID = 4711;
const customEmail = (n: number, to: string, emailId = SE_EMAIL_ID): OutboundMessage => ({
  ...base(n),
  channel: 'email',
  to,
  content: {
    from: { name: 'Desk', address: 'desk@example.com' },
    subject: `A place is free (${n})`,
    text: `Ada, a place is free: https://herald.example/claim/${n}`,
    template: {
      system: 'smartemailing',
      id: String(emailId),
      parameters: [
        { name: 'customerName', value: 'Ada' },
        { name: 'claimUrl', value: `https://herald.example/claim/${n}` },
      ],
    },
  },
});

let smartemailing: SmartEmailingStandIn;
channelPortContract('SmartEmailing API v3 custom e-mails', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    smartemailing = await startSmartEmailingStandIn(SE);
    smartemailing.addEmail(SE_EMAIL_ID);
    const adapter = (apiKey: string) =>
      createSmartEmailingEmailChannel({ ...SE, apiKey, apiUrl: smartemailing.url, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(SE.apiKey),
      wrongCredentials: adapter('se-wrong-key-0123456789abcdef'),
      message: (n) => customEmail(n, `guest${n}@example.com`),
      // An e-mail id that does not exist in the account: 422.
      refusedMessage: () => customEmail(0, 'guest@example.com', 999),
      requests: () => smartemailing.requests.length,
      failNext: (count, status, retryAfter) => smartemailing.failNext(count, status, retryAfter),
      setDown: (down) => smartemailing.setDown(down),
      retryAfter: true,
      violations: () => smartemailing.violations,
    };
  },
  tearDown: async () => smartemailing?.close(),
});

describe('SmartEmailing: what the customer receives', () => {
  let standIn: SmartEmailingStandIn;
  beforeAll(async () => {
    standIn = await startSmartEmailingStandIn(SE);
    standIn.addEmail(SE_EMAIL_ID);
  });
  afterAll(async () => standIn?.close());
  const adapter = () => createSmartEmailingEmailChannel({ ...SE, apiUrl: standIn.url, clock, timeoutMs: 2_000 });

  it('sends the prepared e-mail to the contact with the placeholders as replacements', async () => {
    const outcome = await adapter().send(customEmail(1, 'ada@example.com'));
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    const [send] = standIn.sends.slice(-1);
    expect(send).toMatchObject({
      kind: 'custom',
      recipient: 'ada@example.com',
      emailId: SE_EMAIL_ID,
      replace: [
        { key: 'customerName', content: 'Ada' },
        { key: 'claimUrl', content: 'https://herald.example/claim/1' },
      ],
    });
    expect(send!.body.sender_credentials).toEqual({
      from: 'desk@example.com',
      reply_to: 'desk@example.com',
      sender_name: 'Desk',
    });
    expect((outcome as { providerMessageId: string }).providerMessageId).toBe(send!.id);
    expect(standIn.violations).toEqual([]);
  });

  it('sends an e-mail without a SmartEmailing template as a transactional e-mail with its own text', async () => {
    const outcome = await adapter().send({
      ...base(2),
      channel: 'email',
      to: 'bob@example.com',
      content: {
        from: { address: 'desk@example.com' },
        subject: 'Your reservation',
        text: 'Yoga <Tuesday> 18:00',
        attachments: [],
      },
      attachments: [{ filename: 'reservation.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }],
    });
    expect(outcome).toMatchObject({ outcome: 'accepted' });
    const [send] = standIn.sends.slice(-1);
    expect(send).toMatchObject({ kind: 'transactional', recipient: 'bob@example.com' });
    expect(send!.body.message_contents).toEqual({
      subject: 'Your reservation',
      text_body: 'Yoga <Tuesday> 18:00',
      html_body: '<pre>Yoga &#60;Tuesday&#62; 18:00</pre>',
    });
    const task = (send!.body.tasks as { attachments: { file_name: string; data_base64: string }[] }[])[0]!;
    expect(task.attachments).toEqual([
      {
        file_name: 'reservation.pdf',
        content_type: 'application/pdf',
        data_base64: Buffer.from('%PDF-1.7').toString('base64'),
      },
    ]);
    expect(standIn.violations).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Channel crm: an event or a tag on the customer's contact (identified by email).
const crmMessage = (n: number, to: string, event = 'pe4711_waitlist_offer'): OutboundMessage => ({
  ...base(n),
  channel: 'crm',
  to,
  content: {
    text: `A place is free (${n})`,
    template: {
      system: 'crm',
      id: event,
      parameters: [
        { name: 'service', value: 'Sauna' },
        { name: 'claim_url', value: `https://herald.example/claim/${n}` },
      ],
    },
  },
});

let hubspot: HubSpotStandIn;
const HUBSPOT_TOKEN = 'pat-eu1-contract-0123456789abcdef';
channelPortContract('HubSpot custom event occurrence (events/v3/send)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    hubspot = await startHubSpotStandIn({ accessToken: HUBSPOT_TOKEN });
    hubspot.defineEvent('pe4711_waitlist_offer', ['service', 'claim_url']);
    const adapter = (accessToken: string) =>
      createHubSpotCrmChannel({ accessToken, apiUrl: hubspot.url, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(HUBSPOT_TOKEN),
      wrongCredentials: adapter('pat-eu1-wrong-0123456789abcdef'),
      message: (n) => crmMessage(n, `guest${n}@example.com`),
      // An event the account has not defined: 400.
      refusedMessage: () => crmMessage(0, 'guest@example.com', 'pe4711_no_such_event'),
      requests: () => hubspot.requests.length,
      failNext: (count, status, retryAfter) => hubspot.failNext(count, status, retryAfter),
      setDown: (down) => hubspot.setDown(down),
      // HubSpot's 429 names no time to wait (X-HubSpot-RateLimit-* only): the dispatcher's backoff applies.
      retryAfter: false,
      violations: () => hubspot.violations,
    };
  },
  tearDown: async () => hubspot?.close(),
});

let intercom: IntercomStandIn;
const INTERCOM_TOKEN = 'dG9rOmNvbnRyYWN0LTAxMjM0NTY3ODk=';
channelPortContract('Intercom data event (POST /events)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    intercom = await startIntercomStandIn({ accessToken: INTERCOM_TOKEN });
    const adapter = (accessToken: string) =>
      createIntercomCrmChannel({ accessToken, apiUrl: intercom.url, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(INTERCOM_TOKEN),
      wrongCredentials: adapter('dG9rOndyb25nLTAxMjM0NTY3ODk='),
      message: (n) => {
        intercom.addUser(`guest${n}@example.com`);
        return crmMessage(n, `guest${n}@example.com`, 'waitlist-offer');
      },
      // No user or lead with that email: 404 not_found.
      refusedMessage: () => crmMessage(0, 'stranger@example.com', 'waitlist-offer'),
      requests: () => intercom.requests.length,
      failNext: (count, status, retryAfter) => intercom.failNext(count, status, retryAfter),
      setDown: (down) => intercom.setDown(down),
      retryAfter: true,
      violations: () => intercom.violations,
    };
  },
  tearDown: async () => intercom?.close(),
});

let mailchimp: MailchimpStandIn;
const MC = { apiKey: '0123456789abcdef0123456789abcdef-us6', listId: 'a1b2c3d4e5' };
channelPortContract('Mailchimp member tags', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    mailchimp = await startMailchimpStandIn(MC);
    const adapter = (apiKey: string) =>
      createMailchimpCrmChannel({ apiKey, listId: MC.listId, apiUrl: `${mailchimp.url}/3.0`, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(MC.apiKey),
      wrongCredentials: adapter('fedcba9876543210fedcba9876543210-us6'),
      message: (n) => {
        mailchimp.addMember(`guest${n}@example.com`);
        return crmMessage(n, `guest${n}@example.com`, 'waitlist offer');
      },
      // Not a member of the audience: 404.
      refusedMessage: () => crmMessage(0, 'stranger@example.com', 'waitlist offer'),
      requests: () => mailchimp.requests.length,
      failNext: (count, status, retryAfter) => mailchimp.failNext(count, status, retryAfter),
      setDown: (down) => mailchimp.setDown(down),
      // Mailchimp's 429 names no time to wait: the dispatcher's backoff applies.
      retryAfter: false,
      violations: () => mailchimp.violations,
    };
  },
  tearDown: async () => mailchimp?.close(),
});

let activecampaign: ActiveCampaignStandIn;
const AC = { actid: '650011223', eventKey: 'acEventKey0123456789abcdef' };
channelPortContract('ActiveCampaign event tracking (trackcmp.net/event)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    activecampaign = await startActiveCampaignStandIn(AC);
    const adapter = (eventKey: string) =>
      createActiveCampaignCrmChannel({ ...AC, eventKey, apiUrl: activecampaign.url, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(AC.eventKey),
      wrongCredentials: adapter('acWrongKey0123456789abcdef'),
      message: (n) => {
        activecampaign.addContact(`guest${n}@example.com`);
        return crmMessage(n, `guest${n}@example.com`, 'waitlist-offer');
      },
      refusedMessage: () => crmMessage(0, 'stranger@example.com', 'waitlist-offer'),
      requests: () => activecampaign.requests.length,
      failNext: (count, status, retryAfter) => activecampaign.failNext(count, status, retryAfter),
      setDown: (down) => activecampaign.setDown(down),
      // No documented wait on a 429: the dispatcher's backoff applies.
      retryAfter: false,
      violations: () => activecampaign.violations,
    };
  },
  tearDown: async () => activecampaign?.close(),
});

let salesforce: SalesforceStandIn;
const SF_TOKEN = '00D5g000004ABCD!contract.token.0123456789';
channelPortContract('Salesforce Task for the contact (Composite)', {
  statusCallbacks: false,
  credentials: true,
  async setUp() {
    salesforce = await startSalesforceStandIn({ accessToken: SF_TOKEN });
    const adapter = (accessToken: string) =>
      createSalesforceCrmChannel({ instanceUrl: salesforce.url, accessToken, clock, timeoutMs: 2_000 });
    return {
      adapter: adapter(SF_TOKEN),
      wrongCredentials: adapter('00D5g000004ABCD!wrong.token.0123456789'),
      message: (n) => {
        salesforce.addContact(`guest${n}@example.com`);
        return crmMessage(n, `guest${n}@example.com`, 'Offer the freed seat');
      },
      // No Contact with that email: the Task's reference cannot be resolved.
      refusedMessage: () => crmMessage(0, 'stranger@example.com', 'Offer the freed seat'),
      requests: () => salesforce.requests.length,
      failNext: (count, status, retryAfter) => salesforce.failNext(count, status, retryAfter),
      setDown: (down) => salesforce.setDown(down),
      // Salesforce names no wait on a refused request for limits: the dispatcher's backoff applies.
      retryAfter: false,
      violations: () => salesforce.violations,
    };
  },
  tearDown: async () => salesforce?.close(),
});

describe('CRM: what the customer’s contact gets', () => {
  let hs: HubSpotStandIn;
  let ic: IntercomStandIn;
  let mc: MailchimpStandIn;
  beforeAll(async () => {
    hs = await startHubSpotStandIn({ accessToken: HUBSPOT_TOKEN });
    hs.defineEvent('pe4711_waitlist_offer', ['service', 'claim_url']);
    hs.defineEvent('herald-message', ['message']);
    ic = await startIntercomStandIn({ accessToken: INTERCOM_TOKEN });
    ic.addUser('ada@example.com');
    mc = await startMailchimpStandIn(MC);
    mc.addMember('Ada@Example.com');
  });
  afterAll(async () => {
    await Promise.all([hs?.close(), ic?.close(), mc?.close()]);
  });

  it('HubSpot: the event with its properties on the contact, once per delivery however often it is sent', async () => {
    const adapter = createHubSpotCrmChannel({ accessToken: HUBSPOT_TOKEN, apiUrl: hs.url, clock });
    const message = crmMessage(1, 'ada@example.com');
    const first = await adapter.send(message);
    const again = await adapter.send(message);
    expect(first).toMatchObject({ outcome: 'accepted', providerMessageId: occurrenceUuid(message.idempotencyKey) });
    expect(again).toMatchObject({ outcome: 'accepted', providerMessageId: occurrenceUuid(message.idempotencyKey) });
    // The occurrence uuid is derived from the delivery: HubSpot records a re-sent attempt once.
    expect(hs.occurrences).toEqual([
      {
        eventName: 'pe4711_waitlist_offer',
        email: 'ada@example.com',
        uuid: occurrenceUuid(message.idempotencyKey),
        properties: { service: 'Sauna', claim_url: 'https://herald.example/claim/1' },
      },
    ]);
    // Without a CRM template: herald-message with the text.
    const plain = await adapter.send({ ...base(2), channel: 'crm', to: 'ada@example.com', content: { text: 'Hello' } });
    expect(plain.outcome).toBe('accepted');
    expect(hs.occurrences.at(-1)).toMatchObject({ eventName: 'herald-message', properties: { message: 'Hello' } });
    expect(hs.violations).toEqual([]);
  });

  it('Intercom: the event with metadata on the user, with the Intercom-Version header', async () => {
    const adapter = createIntercomCrmChannel({ accessToken: INTERCOM_TOKEN, apiUrl: ic.url, clock });
    expect((await adapter.send(crmMessage(3, 'ada@example.com', 'waitlist-offer'))).outcome).toBe('accepted');
    expect(ic.events).toEqual([
      expect.objectContaining({
        eventName: 'waitlist-offer',
        email: 'ada@example.com',
        version: '2.11',
        metadata: { service: 'Sauna', claim_url: 'https://herald.example/claim/3' },
      }),
    ]);
    // More than Intercom's 10 metadata values is refused before any request.
    const many = crmMessage(4, 'ada@example.com', 'waitlist-offer');
    const tooMany: OutboundMessage = {
      ...many,
      content: {
        ...many.content,
        template: {
          ...many.content.template!,
          parameters: Array.from({ length: 11 }, (_, i) => ({ name: `p${i}`, value: String(i) })),
        },
      },
    };
    const before = ic.requests.length;
    expect((await adapter.send(tooMany)).outcome).toBe('permanent');
    expect(ic.requests.length).toBe(before);
    expect(ic.violations).toEqual([]);
  });

  it('ActiveCampaign: the event with its properties as eventdata, for the contact named in visit', async () => {
    const standIn = await startActiveCampaignStandIn(AC);
    try {
      standIn.addContact('ada@example.com');
      const adapter = createActiveCampaignCrmChannel({ ...AC, apiUrl: standIn.url, clock });
      expect((await adapter.send(crmMessage(6, 'ada@example.com', 'waitlist-offer'))).outcome).toBe('accepted');
      expect(standIn.events).toEqual([
        {
          event: 'waitlist-offer',
          email: 'ada@example.com',
          eventdata: JSON.stringify({ service: 'Sauna', claim_url: 'https://herald.example/claim/6' }),
        },
      ]);
      // Longer than ActiveCampaign's 32 characters: refused before any request.
      const long = await adapter.send(crmMessage(7, 'ada@example.com', 'a-very-long-event-name-for-the-waitlist'));
      expect(long.outcome).toBe('permanent');
      expect(standIn.requests.length).toBe(1);
      expect(standIn.violations).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it('Salesforce: a Task on the contact found by email, with the properties as its description', async () => {
    const standIn = await startSalesforceStandIn({ accessToken: SF_TOKEN });
    try {
      const contactId = standIn.addContact("o'brien@example.com");
      const adapter = createSalesforceCrmChannel({ instanceUrl: standIn.url, accessToken: SF_TOKEN, clock });
      const outcome = await adapter.send(crmMessage(8, "o'brien@example.com", 'Offer the freed seat'));
      expect(outcome).toMatchObject({ outcome: 'accepted', providerMessageId: standIn.tasks[0]?.id });
      expect(standIn.tasks).toEqual([
        expect.objectContaining({
          whoId: contactId,
          fields: expect.objectContaining({
            Subject: 'Offer the freed seat',
            Description: 'service: Sauna\nclaim_url: https://herald.example/claim/8',
            Status: 'Not Started',
          }),
        }),
      ]);
      // A stranger: no Task is created (allOrNone), and the outcome is permanent with Salesforce's reason.
      const stranger = await adapter.send(crmMessage(9, 'stranger@example.com', 'Offer the freed seat'));
      expect(stranger).toMatchObject({ outcome: 'permanent', code: 'PROCESSING_HALTED' });
      expect(standIn.tasks).toHaveLength(1);
      expect(standIn.violations).toEqual([]);
    } finally {
      await standIn.close();
    }
  });

  it('Mailchimp: the tag on the audience member found by the hash of the lower-cased email', async () => {
    const adapter = createMailchimpCrmChannel({ ...MC, apiUrl: `${mc.url}/3.0`, clock });
    expect((await adapter.send(crmMessage(5, 'ada@example.com', 'waitlist offer'))).outcome).toBe('accepted');
    expect(mc.taggings).toEqual([
      { listId: MC.listId, email: 'ada@example.com', tags: [{ name: 'waitlist offer', status: 'active' }] },
    ]);
    expect(mc.violations).toEqual([]);
  });
});
