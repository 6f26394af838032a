import { describe, expect, it } from 'vitest';
import { NOTIFICATION_KINDS } from '../../../src/domain/notification/kinds.js';
import type {
  CustomerPreferencesEvent,
  NotificationSettings,
  RecipientsInput,
} from '../../../src/domain/notification/preferences.js';
import {
  commandForInboundSms,
  customerPreferencesDecider,
  customerPreferencesOf,
  decideRecipients,
  defaultNotificationSettings,
  notificationSettingsDecider,
  parseSmsKeyword,
} from '../../../src/domain/notification/preferences.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { specFor } from './spec.js';

const at = '2025-03-01T10:00:00.000Z';
const ref = { customerId: 'cust-7', tenantId: 'tenant-1' };

describe('SMS keywords', () => {
  it.each(['STOP', 'stop', '  Stop ', 'STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit\n'])('%j opts out', (body) => {
    expect(parseSmsKeyword(body)?.action).toBe('opt-out');
  });

  it.each(['START', 'start', ' Yes ', 'UNSTOP'])('%j opts in', (body) => {
    expect(parseSmsKeyword(body)?.action).toBe('opt-in');
  });

  it.each(['HELP', 'info'])('%j asks for help', (body) => {
    expect(parseSmsKeyword(body)?.action).toBe('help');
  });

  it.each(['please stop', 'STOP!', 'stopp', 'ok', '', 'Nechci STOP'])('%j is not a keyword', (body) => {
    expect(parseSmsKeyword(body)).toBeUndefined();
  });

  it('turns a keyword into the matching command, normalised to upper case', () => {
    expect(commandForInboundSms(' stop ', { ...ref, phone: '+420771234589', at })).toEqual({
      type: 'OptOutOfSms',
      data: { ...ref, phone: '+420771234589', at, source: 'keyword', keyword: 'STOP' },
    });
    expect(commandForInboundSms('yes', { ...ref, phone: '+420771234589', at })?.type).toBe('OptInToSms');
    expect(commandForInboundSms('help', { ...ref, phone: '+420771234589', at })).toBeUndefined();
    expect(commandForInboundSms('thanks', { ...ref, phone: '+420771234589', at })).toBeUndefined();
  });
});

describe('CustomerPreferences decider', () => {
  const spec = specFor(customerPreferencesDecider);
  const optedOut: CustomerPreferencesEvent = {
    type: 'CustomerSmsOptedOut',
    data: { ...ref, source: 'keyword', keyword: 'STOP', at },
  };

  it('blocks kinds per channel, in a canonical order', () => {
    spec
      .given([])
      .when({
        type: 'ChangeCustomerPreferences',
        data: {
          ...ref,
          blocked: { sms: ['reservation-reminder', 'reservation-confirmed', 'reservation-reminder'] },
          at,
          by: 'cust-7',
        },
      })
      .then([
        {
          type: 'CustomerPreferencesChanged',
          data: {
            ...ref,
            blocked: { email: [], sms: ['reservation-confirmed', 'reservation-reminder'] },
            at,
            by: 'cust-7',
          },
        },
      ]);
  });

  it('keeps the other channel when one is changed, and a repeated change is a no-op', () => {
    const changed: CustomerPreferencesEvent = {
      type: 'CustomerPreferencesChanged',
      data: { ...ref, blocked: { email: ['payment-received'], sms: [] }, at, by: 'cust-7' },
    };
    spec
      .given([changed])
      .when({
        type: 'ChangeCustomerPreferences',
        data: { ...ref, blocked: { email: ['payment-received'] }, at, by: 'cust-7' },
      })
      .thenNothing();
    spec
      .given([changed])
      .when({
        type: 'ChangeCustomerPreferences',
        data: { ...ref, blocked: { sms: ['waitlist-offer'] }, at, by: 'cust-7' },
      })
      .thenState((state) =>
        expect(customerPreferencesOf(state).blocked).toEqual({ email: ['payment-received'], sms: ['waitlist-offer'] }),
      );
  });

  it('refuses unknown kinds and internal alerts', () => {
    spec
      .given([])
      .when({ type: 'ChangeCustomerPreferences', data: { ...ref, blocked: { sms: ['spam' as never] }, at, by: 'x' } })
      .thenThrows(ValidationError, 'invalid-kind');
    spec
      .given([])
      .when({ type: 'ChangeCustomerPreferences', data: { ...ref, blocked: { email: ['staff-alert'] }, at, by: 'x' } })
      .thenThrows(ValidationError, 'kind-not-blockable');
  });

  it('opts out of SMS by STOP once; again is a no-op; START opts back in', () => {
    spec
      .given([])
      .when({ type: 'OptOutOfSms', data: { ...ref, source: 'keyword', keyword: 'STOP', at } })
      .then([optedOut]);
    spec
      .given([optedOut])
      .when({ type: 'OptOutOfSms', data: { ...ref, source: 'keyword', keyword: 'STOPALL', at } })
      .thenNothing();
    spec
      .given([optedOut])
      .when({ type: 'OptInToSms', data: { ...ref, source: 'keyword', keyword: 'START', at } })
      .then([{ type: 'CustomerSmsOptedIn', data: { ...ref, source: 'keyword', keyword: 'START', at } }]);
    spec
      .given([])
      .when({ type: 'OptInToSms', data: { ...ref, source: 'keyword', keyword: 'START', at } })
      .thenNothing();
  });

  it('folds into the preferences decideRecipients uses', () => {
    expect(customerPreferencesOf(fold(customerPreferencesDecider, [optedOut]))).toEqual({
      blocked: { email: [], sms: [] },
      smsOptedOut: true,
    });
    expect(customerPreferencesOf(customerPreferencesDecider.initialState())).toEqual({
      blocked: { email: [], sms: [] },
      smsOptedOut: false,
    });
  });
});

describe('TenantNotificationSettings decider', () => {
  const spec = specFor(notificationSettingsDecider);
  const defaults = defaultNotificationSettings({ name: 'Studio Zen', address: 'booking@studiozen.cz' });
  const change = (settings: NotificationSettings) => ({
    type: 'ChangeNotificationSettings' as const,
    data: { tenantId: 'tenant-1', settings, at, by: 'admin-1' },
  });

  it('records valid settings; the same settings again (in any key order) are a no-op', () => {
    const state = spec
      .given([])
      .when(change(defaults))
      .then([
        { type: 'NotificationSettingsChanged', data: { tenantId: 'tenant-1', settings: defaults, at, by: 'admin-1' } },
      ]);
    expect(state.status).toBe('configured');
    const reordered = Object.fromEntries(Object.entries(defaults).reverse()) as unknown as NotificationSettings;
    spec
      .given([
        { type: 'NotificationSettingsChanged', data: { tenantId: 'tenant-1', settings: defaults, at, by: 'admin-1' } },
      ])
      .when(change(reordered))
      .thenNothing();
  });

  it('normalises reminder offsets and custom recipients', () => {
    spec
      .given([])
      .when(
        change({
          ...defaults,
          reminderOffsets: { email: [180, 1440, 180], sms: [60] },
          customRecipients: { email: ['Front@Studio.cz'], sms: ['+420 777 123 489'] },
        }),
      )
      .thenState((state) => {
        if (state.status !== 'configured') throw new Error(state.status);
        expect(state.settings.reminderOffsets).toEqual({ email: [1440, 180], sms: [60] });
        expect(state.settings.customRecipients).toEqual({ email: ['front@studio.cz'], sms: ['+420777123489'] });
      });
  });

  it.each<[string, Partial<NotificationSettings>, string, string]>([
    [
      'a sender address that is not an address',
      { sender: { name: 'Zen', address: 'not-an-address' } },
      'invalid-sender',
      'sender.address',
    ],
    [
      'a sender name with a newline',
      { sender: { name: 'Zen\r\nBcc: x@y.z', address: 'a@b.cz' } },
      'unsafe-text',
      'sender.name',
    ],
    [
      'a zero reminder offset',
      { reminderOffsets: { email: [0], sms: [] } },
      'invalid-reminder-offset',
      'reminderOffsets.email',
    ],
    [
      'a negative reminder offset',
      { reminderOffsets: { email: [], sms: [-60] } },
      'invalid-reminder-offset',
      'reminderOffsets.sms',
    ],
    [
      'a price below zero',
      { prices: { smsPerPart: -1, emailManual: 1, emailAutomatic: 0 } },
      'invalid-price',
      'prices.smsPerPart',
    ],
    [
      'a custom number that is not E.164',
      { customRecipients: { email: [], sms: ['777123'] } },
      'invalid-recipient',
      'customRecipients.sms',
    ],
    ['an invalid default locale', { defaultLocale: 'english please' }, 'invalid-locale', 'defaultLocale'],
  ])('refuses %s, and records nothing', (_name, change_, code, field) => {
    const error = spec
      .given([])
      .when(change({ ...defaults, ...change_ }))
      .thenThrows(ValidationError, code);
    expect(error.details.field).toBe(field);
  });

  it('refuses a custom message whose template uses an unknown field, naming it', () => {
    const error = spec
      .given([])
      .when(
        change({
          ...defaults,
          customMessages: [
            {
              id: 'sauna',
              kind: 'reservation-reminder',
              channel: 'sms',
              text: 'TURN ON THE SAUNA {{room}}',
              to: { type: 'custom', address: '+420777000111' },
            },
          ],
        }),
      )
      .thenThrows(ValidationError, 'unknown-template-field');
    expect(error.details.field).toBe('room');
  });

  it('accepts a valid custom message', () => {
    spec
      .given([])
      .when(
        change({
          ...defaults,
          customMessages: [
            {
              id: 'sauna',
              kind: 'reservation-reminder',
              channel: 'sms',
              text: 'TURN ON THE SAUNA {{reservationId}}',
              to: { type: 'custom', address: '+420777000111' },
            },
          ],
        }),
      )
      .thenState((state) => expect(state.status).toBe('configured'));
  });
});

describe('decideRecipients', () => {
  const settings = defaultNotificationSettings({ name: 'Studio Zen', address: 'booking@studiozen.cz' });
  const withKind = (
    patch: Partial<NotificationSettings['kinds']['reservation-confirmed']>,
    base = settings,
  ): NotificationSettings => ({
    ...base,
    kinds: { ...base.kinds, 'reservation-confirmed': { ...base.kinds['reservation-confirmed'], ...patch } },
  });
  const customer = { id: 'cust-7', email: 'Jana@Example.com', phone: '+420 771 234 589', locale: 'cs' };
  const input = (over: Partial<RecipientsInput> = {}): RecipientsInput => ({
    kind: 'reservation-confirmed',
    channel: 'email',
    settings,
    customer,
    ...over,
  });

  it('sends to the customer by default, with a normalised address', () => {
    expect(decideRecipients(input())).toEqual({
      recipients: [{ type: 'customer', address: 'jana@example.com', contactId: 'cust-7', locale: 'cs' }],
      skipped: [],
    });
  });

  it('skips with kind-disabled when the tenant has the kind off on the channel (SMS off by default)', () => {
    expect(decideRecipients(input({ channel: 'sms' }))).toEqual({
      recipients: [],
      skipped: [{ type: 'customer', reason: 'kind-disabled', address: '+420771234589', contactId: 'cust-7' }],
    });
  });

  it('skips with channel-disabled when the whole channel is off', () => {
    const off = { ...withKind({ sms: true }), channels: { email: true, sms: false } };
    expect(decideRecipients(input({ channel: 'sms', settings: off })).skipped[0]?.reason).toBe('channel-disabled');
  });

  it('skips a customer who opted out of SMS, and one who blocked the kind', () => {
    const smsOn = withKind({ sms: true });
    expect(
      decideRecipients(
        input({
          channel: 'sms',
          settings: smsOn,
          customer: { ...customer, preferences: { blocked: { email: [], sms: [] }, smsOptedOut: true } },
        }),
      ).skipped,
    ).toEqual([{ type: 'customer', reason: 'opted-out', address: '+420771234589', contactId: 'cust-7' }]);
    const blocked = { blocked: { email: ['reservation-confirmed' as const], sms: [] }, smsOptedOut: false };
    expect(decideRecipients(input({ customer: { ...customer, preferences: blocked } })).skipped[0]?.reason).toBe(
      'blocked-by-customer',
    );
    // The block is per channel: SMS still goes.
    expect(
      decideRecipients(input({ channel: 'sms', settings: smsOn, customer: { ...customer, preferences: blocked } }))
        .recipients,
    ).toHaveLength(1);
  });

  it('skips a missing or invalid contact with the reason', () => {
    expect(decideRecipients(input({ customer: { id: 'cust-8' } })).skipped).toEqual([
      { type: 'customer', reason: 'missing-contact', contactId: 'cust-8' },
    ]);
    expect(decideRecipients(input({ customer: { id: 'cust-9', email: 'nope' } })).skipped[0]?.reason).toBe(
      'invalid-contact',
    );
  });

  it('adds resource staff, admins and custom recipients when the kind names them; one message per address', () => {
    const everyone = withKind(
      { recipients: { customer: true, resourceStaff: true, admins: true, custom: true } },
      { ...settings, customRecipients: { email: ['reception@studiozen.cz', 'boss@studiozen.cz'], sms: [] } },
    );
    const result = decideRecipients(
      input({
        settings: everyone,
        resourceStaff: [{ id: 'staff-1', email: 'petr@studiozen.cz' }, { id: 'staff-2' }],
        admins: [{ id: 'admin-1', email: 'Boss@StudioZen.cz' }],
      }),
    );
    expect(result.recipients.map((r) => [r.type, r.address])).toEqual([
      ['customer', 'jana@example.com'],
      ['staff', 'petr@studiozen.cz'],
      ['admin', 'boss@studiozen.cz'],
      ['custom', 'reception@studiozen.cz'],
    ]);
    expect(result.skipped).toEqual([{ type: 'staff', reason: 'missing-contact', contactId: 'staff-2' }]);
  });

  it('does not apply customer preferences to staff', () => {
    const staffToo = withKind({
      sms: true,
      recipients: { customer: true, resourceStaff: true, admins: false, custom: false },
    });
    const result = decideRecipients(
      input({
        channel: 'sms',
        settings: staffToo,
        customer: {
          ...customer,
          preferences: { blocked: { email: [], sms: ['reservation-confirmed'] }, smsOptedOut: true },
        },
        resourceStaff: [{ id: 'staff-1', phone: '+4791234567' }],
      }),
    );
    expect(result.recipients).toEqual([{ type: 'staff', address: '+4791234567', contactId: 'staff-1' }]);
    expect(result.skipped).toEqual([
      { type: 'customer', reason: 'opted-out', address: '+420771234589', contactId: 'cust-7' },
    ]);
  });

  it('posts a staff alert to the staff-chat rooms a workflow names (a room is an address of its own, no contact field)', () => {
    const rooms: NotificationSettings = {
      ...settings,
      kinds: {
        ...settings.kinds,
        'staff-alert': {
          ...settings.kinds['staff-alert'],
          'staff-chat': true,
          recipients: { customer: false, resourceStaff: false, admins: false, custom: true },
        },
      },
      customRecipients: { ...settings.customRecipients, 'staff-chat': ['Front-Desk', 'not a room!'] },
    };
    const result = decideRecipients(input({ kind: 'staff-alert', channel: 'staff-chat', settings: rooms }));
    expect(result.recipients).toEqual([{ type: 'custom', address: 'front-desk' }]);
    expect(result.skipped).toEqual([{ type: 'custom', reason: 'invalid-contact', address: 'not a room!' }]);
  });

  it('sends staff alerts to admins by default, not to the customer', () => {
    const result = decideRecipients(
      input({ kind: 'staff-alert', admins: [{ id: 'admin-1', email: 'boss@studiozen.cz' }] }),
    );
    expect(result.recipients).toEqual([{ type: 'admin', address: 'boss@studiozen.cz', contactId: 'admin-1' }]);
  });

  it('accounts for every candidate exactly once, for every kind and channel', () => {
    const all = { customer: true, resourceStaff: true, admins: true, custom: true };
    for (const kind of NOTIFICATION_KINDS) {
      for (const channel of ['email', 'sms'] as const) {
        const s: NotificationSettings = {
          ...settings,
          customRecipients: { email: ['x@studiozen.cz'], sms: ['+420777000111'] },
          kinds: { ...settings.kinds, [kind]: { email: kind !== 'payment-received', sms: true, recipients: all } },
        };
        const result = decideRecipients({
          kind,
          channel,
          settings: s,
          customer,
          resourceStaff: [{ id: 's' }],
          admins: [{ id: 'a', email: 'a@b.cz', phone: '+420777000222' }],
        });
        expect(result.recipients.length + result.skipped.length).toBe(4);
      }
    }
  });
});
