import { describe, expect, it } from 'vitest';
import {
  TENANT_PROVIDERS,
  contactKindOf,
  deliveryDecider,
  isValidAddress,
  validateSettings,
  type CalendarEventContent,
} from '../../../src/domain/notification/index.js';
import { maskAddress } from '../../../src/domain/notification/masking.js';
import { contactAddress } from '../../../src/domain/notification/preferences.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { googleEventId, graphTransactionId } from '../../../src/infrastructure/channels/calendar-channels.js';
import { requestSms } from './delivery-fixtures.js';
import { specFor } from './spec.js';

const spec = specFor(deliveryDecider);

const EVENT: CalendarEventContent = {
  reservationId: 'R-1',
  start: '2027-01-15T17:30:00.000Z',
  end: '2027-01-15T19:00:00.000Z',
  timeZone: 'Europe/Prague',
  summary: 'Sauna for 2',
  location: 'Riverside Spa',
  description: 'Confirmed.\n\nReservation R-1',
};
const calendarRequest = (content: Record<string, unknown>) =>
  requestSms({
    channel: 'calendar',
    recipient: { type: 'customer', address: 'jana@example.com' },
    content: content as never,
  });

describe('the calendar channel: the customer by email, the reservation as the event', () => {
  it('addresses the customer by email, masked like an email in the audit trail', () => {
    expect(contactKindOf('calendar')).toBe('email');
    expect(isValidAddress('calendar', 'jana@example.com')).toBe(true);
    expect(isValidAddress('calendar', '+420601123456')).toBe(false);
    expect(contactAddress({ email: 'jana@example.com', phone: '+420601123456' }, 'calendar')).toBe('jana@example.com');
    expect(maskAddress('calendar', 'jana@example.com')).toBe(maskAddress('email', 'jana@example.com'));
  });

  it('records a calendar delivery with its event', () => {
    spec
      .given([])
      .when(calendarRequest({ text: 'Confirmed.', event: EVENT }))
      .thenState((state) => {
        expect(state.status).toBe('requested');
        if (state.status === 'requested') expect(state.delivery.content.event).toEqual(EVENT);
      });
  });

  it.each([
    ['a calendar delivery without its event', { text: 'Confirmed.' }],
    ['an event that ends before it starts', { text: 'x', event: { ...EVENT, end: EVENT.start } }],
    ['an event in a time zone that is not one', { text: 'x', event: { ...EVENT, timeZone: 'Mars/Olympus' } }],
    ['an event without a title', { text: 'x', event: { ...EVENT, summary: ' ' } }],
  ])('refuses %s', (_name, content) => {
    spec.given([]).when(calendarRequest(content)).thenThrows(ValidationError);
  });

  it('refuses an event on another channel', () => {
    spec
      .given([])
      .when(requestSms({ content: { text: 'x', event: EVENT } as never }))
      .thenThrows(ValidationError, 'invalid-content');
  });

  it('derives provider ids from the delivery: stable, distinct, in the alphabet Google requires', () => {
    const id = googleEventId('tenant-1|delivery-1');
    expect(id).toMatch(/^[a-v0-9]{5,1024}$/);
    expect(googleEventId('tenant-1|delivery-1')).toBe(id);
    expect(googleEventId('tenant-1|delivery-2')).not.toBe(id);
    expect(graphTransactionId('tenant-1|delivery-1').length).toBeLessThanOrEqual(255);
    expect(graphTransactionId('tenant-1|delivery-1')).not.toBe(graphTransactionId('tenant-1|delivery-2'));
  });
});

describe('tenant providers google-calendar and outlook: settings checked before they are recorded', () => {
  it('google-calendar needs the calendar and the service account; the subject must be an address', () => {
    const google = TENANT_PROVIDERS['google-calendar']!;
    expect(google.channel).toBe('calendar');
    const settings = { calendarId: 'primary', clientEmail: 'herald@p.iam.gserviceaccount.com' };
    expect(() => validateSettings('providers[0]', google, settings)).not.toThrow();
    expect(() =>
      validateSettings('providers[0]', google, { ...settings, calendarId: 'abc123@group.calendar.google.com' }),
    ).not.toThrow();
    expect(() => validateSettings('providers[0]', google, { ...settings, subject: 'not an address' })).toThrow(
      /subject/,
    );
    expect(() => validateSettings('providers[0]', google, { clientEmail: settings.clientEmail })).toThrow(/calendarId/);
    expect(Object.keys(google.credentials)).toEqual(['privateKey']);
  });

  it('outlook needs the tenant, a GUID client id and the organizer mailbox; the secret is a credential', () => {
    const outlook = TENANT_PROVIDERS.outlook!;
    expect(outlook.channel).toBe('calendar');
    const settings = {
      tenantId: 'contoso.onmicrosoft.com',
      clientId: '5b1c3a52-7e9f-4c2a-9d55-2f0e6a1b7c3d',
      userId: 'desk@contoso.example',
    };
    expect(() => validateSettings('providers[0]', outlook, settings)).not.toThrow();
    expect(() => validateSettings('providers[0]', outlook, { ...settings, clientId: 'my-app' })).toThrow(/clientId/);
    expect(() => validateSettings('providers[0]', outlook, { ...settings, userId: 'desk' })).toThrow(/userId/);
    expect(Object.keys(outlook.credentials)).toEqual(['clientSecret']);
  });
});
