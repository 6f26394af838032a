import { describe, expect, it } from 'vitest';
import { heraldDefaultSettings } from '../../../src/application/notifications/notification-settings.js';
import {
  planNotifications,
  type NotificationCause,
  type PlanInput,
  type PlannedDelivery,
} from '../../../src/application/notifications/plan-notifications.js';
import type { ReservationDetails } from '../../../src/domain/booking/reservation.decider.js';
import {
  analyzeSms,
  DEFAULT_CUSTOMER_PREFERENCES,
  EVERYWHERE,
  effectiveWorkflows,
  workflowsForEvent,
  workflowsForTime,
  type Workflow,
  type WorkflowEvent,
  type CustomMessageSetting,
  type NotificationKind,
  type NotificationSettings,
} from '../../../src/domain/notification/index.js';
import { uuidIdSource } from '../../../src/infrastructure/uuid-id-source.js';

// 08:00 UTC is 17:00 in Tokyo: a message showing "08:00" used the wrong zone.
const reservation: ReservationDetails = {
  reservationId: 'R-77',
  tenantId: 'tenant-1',
  source: 'internal',
  customer: { id: 'cust-9', name: 'Aiko Tanaka', email: 'Aiko@Example.com', phone: '+819012345678', locale: 'en-GB' },
  serviceId: 'svc-onsen',
  serviceName: 'Private onsen',
  resourceId: 'bath-2',
  locationId: 'loc-kyoto',
  location: { name: 'Kyoto Baths', address: '1 Gion, Kyoto', timeZone: 'Asia/Tokyo' },
  start: '2030-06-03T08:00:00.000Z',
  end: '2030-06-03T09:00:00.000Z',
  partySize: 1,
  requiresConfirmation: false,
  external: null,
};

const LOCAL_START = '17:00';
const CUSTOMER_EMAIL = 'aiko@example.com';
const CUSTOMER_PHONE = '+819012345678';

type Overrides = Omit<Partial<PlanInput>, 'cause'> & { cause?: Partial<NotificationCause> };

/** The ready-made workflows the settings give for this cause, as the planner selects them. */
function workflowsOf(settings: NotificationSettings, cause: NotificationCause): Workflow[] {
  const all = effectiveWorkflows(settings, new Map());
  const subject = {
    serviceId: reservation.serviceId,
    locationId: reservation.locationId,
    resourceId: null,
    paid: false,
  };
  if (cause.kind === 'reservation-reminder') {
    return workflowsForTime(all, `start:before:${cause.extra?.minutesBefore ?? 1440}`, subject);
  }
  const event = (Object.keys(EVENT_KINDS) as WorkflowEvent[]).find((e) => EVENT_KINDS[e] === cause.kind)!;
  return workflowsForEvent(all, event, subject, { cancelledBy: cause.extra?.cancelledBy });
}
const EVENT_KINDS: Partial<Record<WorkflowEvent, NotificationKind>> = {
  'reservation-confirmed': 'reservation-confirmed',
  'reservation-cancelled': 'reservation-cancelled',
  'reservation-declined': 'reservation-declined',
  'reservation-rescheduled': 'reservation-rescheduled',
  'payment-received': 'payment-received',
  'waitlist-offer': 'waitlist-offer',
  'waitlist-seat-assigned': 'waitlist-seat-assigned',
  'waitlist-exhausted': 'staff-alert',
};

function plan(overrides: Overrides = {}): PlannedDelivery[] {
  const { cause: causeOverrides, ...rest } = overrides;
  const cause: NotificationCause = {
    eventId: 'evt-1',
    tenantId: 'tenant-1',
    kind: 'reservation-confirmed',
    occurredAt: '2030-06-01T10:00:00.000Z',
    reservation,
    customerRef: 'cust-9',
    ...causeOverrides,
  };
  const settings = rest.settings ?? heraldDefaultSettings();
  return planNotifications({
    cause,
    workflows: workflowsOf(settings, cause),
    settings: heraldDefaultSettings(),
    preferences: DEFAULT_CUSTOMER_PREFERENCES,
    resourceStaff: [],
    admins: [],
    paid: false,
    serviceDescription: 'Bring your own towel.',
    now: '2030-06-01T10:00:02.000Z',
    deriveId: (...parts) => uuidIdSource.derive('delivery', ...parts),
    ...rest,
  });
}

function withSettings(change: (settings: NotificationSettings) => Partial<NotificationSettings>): NotificationSettings {
  const settings = heraldDefaultSettings();
  return { ...settings, ...change(settings) };
}

function withKind(
  settings: NotificationSettings,
  kind: NotificationKind,
  change: Partial<NotificationSettings['kinds'][NotificationKind]>,
): NotificationSettings {
  return { ...settings, kinds: { ...settings.kinds, [kind]: { ...settings.kinds[kind], ...change } } };
}

const requests = (plans: PlannedDelivery[]) =>
  plans.flatMap((p) => (p.type === 'request' ? [p.request] : ([] as never[])));
const skips = (plans: PlannedDelivery[]) => plans.flatMap((p) => (p.type === 'skip' ? [p] : ([] as never[])));
const only = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0]!;
};

describe('planNotifications', () => {
  it('requests one message per enabled channel for the customer, showing the time in the location zone', () => {
    const planned = requests(plan());

    expect(planned.map((r) => [r.channel, r.recipient])).toEqual([
      ['email', { type: 'customer', address: CUSTOMER_EMAIL }],
      ['sms', { type: 'customer', address: CUSTOMER_PHONE }],
    ]);
    for (const request of planned) {
      expect(request).toMatchObject({
        tenantId: 'tenant-1',
        reservationId: 'R-77',
        customerId: 'cust-9',
        kind: 'reservation-confirmed',
        causationEventId: 'evt-1',
        causedAt: '2030-06-01T10:00:00.000Z',
        requestedAt: '2030-06-01T10:00:02.000Z',
      });
      expect(request.content.text).toContain(LOCAL_START);
      expect(request.content.text).not.toContain('08:00');
      expect(request.content.text).toContain('Kyoto Baths');
      expect(request.content.text).toContain('R-77');
    }
    const email = planned.find((r) => r.channel === 'email')!;
    expect(email.content.subject).toContain(LOCAL_START);
    expect(email.content.html).toContain(LOCAL_START);
    expect(email.content.from).toEqual({ name: 'Herald', address: 'no-reply@herald.invalid' });
  });

  it('gives the same ids for the same cause, and other ids for another causing event', () => {
    const first = requests(plan()).map((r) => r.notificationId);
    const again = requests(plan()).map((r) => r.notificationId);
    const otherEvent = requests(plan({ cause: { eventId: 'evt-2' } })).map((r) => r.notificationId);

    expect(new Set(first).size).toBe(first.length);
    expect(again).toEqual(first);
    expect(otherEvent).toHaveLength(first.length);
    for (const id of otherEvent) expect(first).not.toContain(id);
  });

  it('gives skips deterministic ids too', () => {
    const input = { preferences: { ...DEFAULT_CUSTOMER_PREFERENCES, smsOptedOut: true } };
    const first = only(skips(plan(input))).identity.notificationId;
    expect(only(skips(plan(input))).identity.notificationId).toBe(first);
    expect(only(skips(plan({ ...input, cause: { eventId: 'evt-2' } }))).identity.notificationId).not.toBe(first);
  });

  describe('recorded skips: only reasons that concern the customer', () => {
    it('opted out of SMS: the SMS is skipped with the masked number, the email still goes', () => {
      const planned = plan({ preferences: { ...DEFAULT_CUSTOMER_PREFERENCES, smsOptedOut: true } });

      expect(requests(planned).map((r) => r.channel)).toEqual(['email']);
      const skip = only(skips(planned));
      expect(skip.reason).toBe('opted-out');
      expect(skip.identity).toMatchObject({
        tenantId: 'tenant-1',
        reservationId: 'R-77',
        customerId: 'cust-9',
        kind: 'reservation-confirmed',
        channel: 'sms',
        recipientType: 'customer',
        maskedRecipient: '+81901****78',
        causationEventId: 'evt-1',
      });
      expect(JSON.stringify(skip)).not.toContain(CUSTOMER_PHONE);
    });

    it('blocked by the customer for this kind and channel', () => {
      const planned = plan({
        preferences: { ...DEFAULT_CUSTOMER_PREFERENCES, blocked: { email: ['reservation-confirmed'], sms: [] } },
      });

      expect(requests(planned).map((r) => r.channel)).toEqual(['sms']);
      expect(only(skips(planned))).toMatchObject({
        reason: 'blocked-by-customer',
        identity: { channel: 'email', recipientType: 'customer', maskedRecipient: 'a***@example.com' },
      });
    });

    it('no contact on the channel', () => {
      const { phone: _phone, ...noPhone } = reservation.customer;
      const planned = plan({ cause: { reservation: { ...reservation, customer: noPhone } } });

      expect(requests(planned).map((r) => r.channel)).toEqual(['email']);
      const skip = only(skips(planned));
      expect(skip).toMatchObject({
        reason: 'missing-contact',
        identity: { channel: 'sms', recipientType: 'customer' },
      });
      expect(skip.identity.maskedRecipient).toBeUndefined();
    });

    it('a contact that is not a valid address', () => {
      const planned = plan({
        cause: { reservation: { ...reservation, customer: { ...reservation.customer, phone: 'call me maybe' } } },
      });

      expect(requests(planned).map((r) => r.channel)).toEqual(['email']);
      expect(only(skips(planned))).toMatchObject({ reason: 'invalid-contact', identity: { channel: 'sms' } });
    });

    it('records nothing when the tenant switched the channel off', () => {
      const planned = plan({ settings: withSettings(() => ({ channels: { email: true, sms: false } })) });

      expect(planned.map((p) => (p.type === 'request' ? p.request.channel : p.type))).toEqual(['email']);
    });

    it('records nothing when the tenant switched the kind off on a channel, or altogether', () => {
      // payment-received goes by email only in the defaults
      const payment = plan({ cause: { kind: 'payment-received', extra: { amount: 45, currency: 'EUR' } } });
      expect(payment.map((p) => (p.type === 'request' ? p.request.channel : p.type))).toEqual(['email']);

      const off = withKind(heraldDefaultSettings(), 'reservation-confirmed', { email: false, sms: false });
      expect(plan({ settings: off })).toEqual([]);
    });

    it('records nothing for a switched-off channel even when the customer could not have got it anyway', () => {
      const { phone: _phone, ...noPhone } = reservation.customer;
      const planned = plan({
        cause: { reservation: { ...reservation, customer: noPhone } },
        preferences: { ...DEFAULT_CUSTOMER_PREFERENCES, smsOptedOut: true },
        settings: withSettings(() => ({ channels: { email: true, sms: false } })),
      });
      expect(skips(planned)).toEqual([]);
    });
  });

  it('sends staff and admins the staff version of the message', () => {
    const settings = withKind(heraldDefaultSettings(), 'reservation-confirmed', {
      recipients: { customer: true, resourceStaff: true, admins: true, custom: false },
    });
    const planned = requests(
      plan({
        settings,
        resourceStaff: [{ id: 'staff-1', email: 'masseur@kyoto.example', phone: '+819011112222' }],
        admins: [{ id: 'admin-1', email: 'boss@kyoto.example' }],
      }),
    );

    const byAddress = new Map(planned.map((r) => [`${r.channel}:${r.recipient.address}`, r]));
    expect([...byAddress.keys()].sort()).toEqual([
      'email:aiko@example.com',
      'email:boss@kyoto.example',
      'email:masseur@kyoto.example',
      'sms:+819011112222',
      'sms:+819012345678',
    ]);
    expect(byAddress.get('email:masseur@kyoto.example')!.recipient.type).toBe('staff');
    expect(byAddress.get('email:boss@kyoto.example')!.recipient.type).toBe('admin');

    const customerEmail = byAddress.get('email:aiko@example.com')!.content.text;
    expect(customerEmail).toMatch(/^Hello Aiko Tanaka,/);
    expect(customerEmail).toContain('Bring your own towel.');
    for (const key of ['email:masseur@kyoto.example', 'email:boss@kyoto.example']) {
      const text = byAddress.get(key)!.content.text;
      expect(text).toMatch(/^Hello,\n/);
      expect(text).toContain('Customer: Aiko Tanaka');
      expect(text).not.toContain('Bring your own towel.');
      // Staff without a locale read the tenant's default (en: 12-hour clock), not the customer's en-GB.
      expect(text).toMatch(/5:00.*PM/);
      expect(text).not.toContain(LOCAL_START);
    }
    expect(byAddress.get('sms:+819012345678')!.content.text).not.toContain('Aiko Tanaka');
    expect(byAddress.get('sms:+819011112222')!.content.text).toContain('Aiko Tanaka');
    for (const request of planned) {
      if (request.recipient.type !== 'customer') expect(request.customerId).toBeUndefined();
    }
  });

  describe('custom messages', () => {
    const sauna: CustomMessageSetting = {
      id: 'sauna',
      kind: 'reservation-reminder',
      channel: 'sms',
      text: 'TURN ON THE SAUNA',
      to: { type: 'custom', address: '+4790012345' },
      minutesBefore: 60,
    };
    const settings = withSettings(() => ({ customMessages: [sauna] }));
    const reminder = (minutesBefore?: number) =>
      plan({
        settings,
        cause: { kind: 'reservation-reminder', ...(minutesBefore !== undefined ? { extra: { minutesBefore } } : {}) },
      });
    const toSauna = (plans: PlannedDelivery[]) => requests(plans).filter((r) => r.recipient.address === '+4790012345');

    it('sends a reminder-kind custom SMS to its own number with the reminder job of its offset', () => {
      const request = only(toSauna(reminder(60)));
      expect(request).toMatchObject({
        kind: 'reservation-reminder',
        channel: 'sms',
        recipient: { type: 'custom', address: '+4790012345' },
        content: { text: 'TURN ON THE SAUNA' },
        reservationId: 'R-77',
        causationEventId: 'evt-1',
      });
      expect(request.customerId).toBeUndefined();
    });

    it('does not send it with the reminder of another offset, or with any other kind', () => {
      const otherOffset = reminder(1440);
      expect(toSauna(otherOffset)).toEqual([]);
      expect(skips(otherOffset)).toEqual([]);
      expect(toSauna(reminder())).toEqual([]);
      expect(toSauna(plan({ settings }))).toEqual([]);
    });

    it('fills placeholders in the location zone and gets an id of its own beside the standard message', () => {
      const toCustomer: CustomMessageSetting = {
        id: 'parking',
        kind: 'reservation-confirmed',
        channel: 'sms',
        text: 'Parking is free from {{time}} for {{reservationId}}.',
        to: { type: 'customer' },
      };
      const planned = requests(plan({ settings: withSettings(() => ({ customMessages: [toCustomer] })) }));
      const toPhone = planned.filter((r) => r.recipient.address === CUSTOMER_PHONE);

      expect(toPhone).toHaveLength(2);
      expect(toPhone[1]!.content.text).toBe(`Parking is free from ${LOCAL_START} for R-77.`);
      expect(toPhone[1]!.customerId).toBe('cust-9');
      expect(toPhone[0]!.notificationId).not.toBe(toPhone[1]!.notificationId);
    });

    it("respects the customer's blocked kinds and the channel switch, like standard messages", () => {
      const toCustomer: CustomMessageSetting = {
        id: 'parking',
        kind: 'reservation-confirmed',
        channel: 'sms',
        text: 'Parking is free for {{reservationId}}.',
        to: { type: 'customer' },
      };
      const blocked = plan({
        settings: withSettings(() => ({ customMessages: [toCustomer] })),
        preferences: { ...DEFAULT_CUSTOMER_PREFERENCES, blocked: { email: [], sms: ['reservation-confirmed'] } },
      });
      expect(requests(blocked).filter((r) => r.channel === 'sms')).toHaveLength(0);
      expect(blocked.filter((p) => p.type === 'skip').map((p) => p.type === 'skip' && p.reason)).toEqual([
        'blocked-by-customer',
        'blocked-by-customer',
      ]);

      const smsOff = plan({
        settings: withSettings((base) => ({
          customMessages: [toCustomer],
          channels: { ...base.channels, sms: false },
        })),
      });
      expect(requests(smsOff).filter((r) => r.channel === 'sms')).toHaveLength(0);
    });
  });

  describe('calendar invitations', () => {
    const settings = withKind(heraldDefaultSettings(), 'reservation-confirmed', {
      recipients: { customer: true, resourceStaff: true, admins: false, custom: false },
    });
    const staff = [{ email: 'masseur@kyoto.example', phone: '+819011112222' }];

    it('attaches the ICS to the customer email only', () => {
      const planned = requests(
        plan({ settings, resourceStaff: staff, cause: { calendar: { method: 'REQUEST', sequence: 2 } } }),
      );

      const withIcs = planned.filter((r) => r.content.ics !== undefined);
      const customerEmail = only(withIcs);
      expect(customerEmail.channel).toBe('email');
      expect(customerEmail.recipient).toEqual({ type: 'customer', address: CUSTOMER_EMAIL });
      expect(customerEmail.content.ics!.method).toBe('REQUEST');
      expect(customerEmail.content.ics!.content).toContain('UID:reservation-R-77@herald.invalid');
      expect(customerEmail.content.ics!.content).toContain('SEQUENCE:2');
      expect(customerEmail.content.ics!.content).toContain('DTSTART:20300603T080000Z');
      expect(planned).toHaveLength(4);
    });

    it('attaches nothing when the cause brings no calendar', () => {
      const planned = requests(plan({ settings, resourceStaff: staff }));
      expect(planned).toHaveLength(4);
      expect(planned.filter((r) => r.content.ics !== undefined)).toEqual([]);
    });
  });

  describe('cost', () => {
    const prices = { smsPerPart: 3, emailManual: 7, emailAutomatic: 2 };

    it('is the automatic email price, and the SMS part price times the parts of the text', () => {
      const longName = { ...reservation, serviceName: 'Private onsen with a long herbal soak '.repeat(4).trim() };
      const planned = requests(plan({ settings: withSettings(() => ({ prices })), cause: { reservation: longName } }));

      const email = planned.find((r) => r.channel === 'email')!;
      const sms = planned.find((r) => r.channel === 'sms')!;
      expect(email.cost).toBe(2);
      const parts = analyzeSms(sms.content.text).parts;
      expect(parts).toBeGreaterThan(1);
      expect(sms.cost).toBe(3 * parts);
    });

    it('prices a custom SMS by its parts too', () => {
      const text = 'Sauna on. '.repeat(20); // 200 GSM-7 characters: two parts
      const settings = withSettings(() => ({
        prices,
        customMessages: [
          {
            id: 'long',
            kind: 'reservation-confirmed',
            channel: 'sms',
            text,
            to: { type: 'custom', address: '+4790012345' },
          },
        ],
      }));
      const custom = only(requests(plan({ settings })).filter((r) => r.recipient.type === 'custom'));
      expect(custom.cost).toBe(6);
    });

    it('is left out when the price list is zero', () => {
      for (const request of requests(plan())) expect(request.cost).toBeUndefined();
    });
  });
});

describe('calendar invitations (channel calendar)', () => {
  const calendarWorkflow = (event: WorkflowEvent): Workflow => ({
    workflowId: `wf-calendar-${event}`,
    name: 'Invite to the calendar',
    enabled: true,
    trigger: { type: 'event', event },
    scope: EVERYWHERE,
    channel: 'calendar',
    message: { type: 'standard' },
    recipients: { customer: true, resourceStaff: false, admins: false, addresses: [] },
    origin: 'custom',
  });

  it('invites the customer, by email address, to the reservation in the location’s time zone', () => {
    const request = only(
      requests(
        plan({
          cause: { calendar: { method: 'REQUEST', sequence: 0 } },
          workflows: [calendarWorkflow('reservation-confirmed')],
        }),
      ),
    );
    expect(request.channel).toBe('calendar');
    expect(request.recipient).toEqual({ type: 'customer', address: CUSTOMER_EMAIL });
    expect(request.content.event).toEqual({
      reservationId: 'R-77',
      start: '2030-06-03T08:00:00.000Z',
      end: '2030-06-03T09:00:00.000Z',
      timeZone: 'Asia/Tokyo',
      summary: 'Private onsen',
      location: 'Kyoto Baths, 1 Gion, Kyoto',
      description: expect.stringContaining('Reservation R-77'),
    });
    // The text the customer reads in the description is the standard one, in the location's time.
    expect(request.content.event!.description).toContain(LOCAL_START);
    expect(request.content.subject).toBeUndefined();
  });

  it('plans nothing for a reschedule or a cancellation (the event made earlier cannot be changed yet)', () => {
    expect(
      plan({
        cause: { kind: 'reservation-rescheduled', calendar: { method: 'REQUEST', sequence: 1 } },
        workflows: [calendarWorkflow('reservation-rescheduled')],
      }),
    ).toEqual([]);
    expect(
      plan({
        cause: { kind: 'reservation-cancelled', calendar: { method: 'CANCEL', sequence: 1 } },
        workflows: [calendarWorkflow('reservation-cancelled')],
      }),
    ).toEqual([]);
  });

  it('sends no event on other channels', () => {
    const email = requests(plan({ cause: { calendar: { method: 'REQUEST', sequence: 0 } } }));
    expect(email.length).toBeGreaterThan(0);
    for (const r of email) expect(r.content.event).toBeUndefined();
  });
});
