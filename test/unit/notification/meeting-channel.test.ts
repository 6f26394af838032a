import { describe, expect, it } from 'vitest';
import {
  TENANT_PROVIDERS,
  contactKindOf,
  isValidAddress,
  validateSettings,
  type Workflow,
} from '../../../src/domain/notification/index.js';
import { contactAddress } from '../../../src/domain/notification/preferences.js';
import { maskAddress } from '../../../src/domain/notification/masking.js';
import { validateWorkflow } from '../../../src/domain/notification/workflows.js';

const workflow = (channel: string, system: string, template: string): Workflow =>
  ({
    workflowId: 'online-class',
    name: 'Join link for the online class',
    enabled: true,
    trigger: { type: 'event', event: 'reservation-confirmed' },
    scope: { serviceIds: ['online-yoga'], locationIds: [], resourceIds: [], payment: 'any' },
    channel,
    message: { type: 'external', system, template, parameters: ['customerName'] },
    recipients: { customer: true, resourceStaff: false, admins: false, addresses: [] },
    origin: 'custom',
  }) as Workflow;

describe('the meeting channel: the customer’s email registered for the meeting a workflow names', () => {
  it('the address is the customer’s email, masked like one', () => {
    expect(contactKindOf('meeting')).toBe('email');
    expect(isValidAddress('meeting', 'ada@example.com')).toBe(true);
    expect(isValidAddress('meeting', '+420601123456')).toBe(false);
    expect(contactAddress({ email: 'ada@example.com', phone: '+420601123456' }, 'meeting')).toBe('ada@example.com');
    expect(maskAddress('meeting', 'ada@example.com')).toBe('a***@example.com');
  });

  it('a workflow on meeting names a Zoom or a Webex meeting id, and nothing else', () => {
    expect(validateWorkflow(workflow('meeting', 'zoom', '85746065432')).message).toMatchObject({
      system: 'zoom',
      template: '85746065432',
    });
    expect(validateWorkflow(workflow('meeting', 'webex', '870f51ff287b41be84648412901e0402')).message).toMatchObject({
      system: 'webex',
    });
    expect(() =>
      validateWorkflow(workflow('meeting', 'webex', '870f51ff287b41be84648412901e0402_I_12345')),
    ).not.toThrow();
    expect(() => validateWorkflow(workflow('meeting', 'zoom', 'abc'))).toThrow(/Not a zoom template id/);
    expect(() => validateWorkflow(workflow('meeting', 'webex', '85746065432'))).toThrow(/Not a webex template id/);
    expect(() => validateWorkflow(workflow('meeting', 'crm', 'waitlist_offer'))).toThrow(/templates of zoom, webex/);
    expect(() => validateWorkflow(workflow('email', 'zoom', '85746065432'))).toThrow(/templates of/);
  });

  it('zoom needs the account id as a setting and client id and secret as credentials; webex a token', () => {
    const zoom = TENANT_PROVIDERS.zoom!;
    expect(zoom.channel).toBe('meeting');
    expect(() => validateSettings('providers[0]', zoom, { accountId: 'gYz8S9w5Q5yrDoIvmdClYw' })).not.toThrow();
    expect(() => validateSettings('providers[0]', zoom, {})).toThrow(/accountId/);
    expect(() => validateSettings('providers[0]', zoom, { accountId: 'x y' })).toThrow(/accountId/);
    expect(Object.keys(zoom.credentials)).toEqual(['clientId', 'clientSecret']);
    expect(TENANT_PROVIDERS.webex!.channel).toBe('meeting');
    expect(Object.keys(TENANT_PROVIDERS.webex!.credentials)).toEqual(['accessToken']);
  });
});
