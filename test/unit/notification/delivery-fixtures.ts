import type {
  DeliveryDetails,
  DeliveryEvent,
  RequestNotification,
} from '../../../src/domain/notification/delivery.decider.js';

export const NOTIFICATION_ID = 'ntf-1';

export function requestSms(overrides: Partial<RequestNotification['data']> = {}): RequestNotification {
  return {
    type: 'RequestNotification',
    data: {
      notificationId: NOTIFICATION_ID,
      tenantId: 'tenant-1',
      reservationId: 'R-42',
      customerId: 'cust-7',
      kind: 'reservation-confirmed',
      channel: 'sms',
      recipient: { type: 'customer', address: '+420771234589' },
      content: {
        text: 'Studio Zen: Reservation R-42 confirmed: Massage, Fri, Mar 14, 2:15 PM GMT+1, Studio Vinohrady.',
      },
      cost: 1,
      causationEventId: 'evt-100',
      requestedAt: '2025-03-01T10:00:00.000Z',
      maxAttempts: 3,
      ...overrides,
    },
  };
}

export function requestedEvent(overrides: Partial<DeliveryDetails> = {}): DeliveryEvent {
  const { data } = requestSms();
  return {
    type: 'NotificationRequested',
    data: {
      ...(data as Omit<DeliveryDetails, 'maskedRecipient' | 'maxAttempts'>),
      maskedRecipient: '+42077****89',
      sms: { encoding: 'GSM-7', parts: 1 },
      maxAttempts: 3,
      ...overrides,
    },
  };
}

export const started = (attempt: number, at = `2025-03-01T10:0${attempt}:00.000Z`): DeliveryEvent => ({
  type: 'NotificationAttemptStarted',
  data: { notificationId: NOTIFICATION_ID, attempt, round: 1, at },
});

export const sent = (providerMessageId = 'SM1', attempt = 1, at = '2025-03-01T10:01:01.000Z'): DeliveryEvent => ({
  type: 'NotificationSent',
  data: { notificationId: NOTIFICATION_ID, attempt, providerMessageId, at },
});

export const attemptFailed = (
  attempt: number,
  at = `2025-03-01T10:0${attempt}:05.000Z`,
  nextAttemptAt = `2025-03-01T10:0${attempt + 1}:00.000Z`,
): DeliveryEvent => ({
  type: 'NotificationAttemptFailed',
  data: { notificationId: NOTIFICATION_ID, attempt, error: 'HTTP 503', transient: true, at, nextAttemptAt },
});
