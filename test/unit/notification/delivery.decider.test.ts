import { describe, expect, it } from 'vitest';
import type { DeliveryEvent, DeliveryState } from '../../../src/domain/notification/delivery.decider.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  deliveryDecider,
  retryDelayMs,
} from '../../../src/domain/notification/delivery.decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import { attemptFailed, NOTIFICATION_ID, requestedEvent, requestSms, sent, started } from './delivery-fixtures.js';
import { specFor } from './spec.js';

const spec = specFor(deliveryDecider);
const at = '2025-03-01T11:00:00.000Z';

describe('RequestNotification', () => {
  it('records the request with the masked recipient and the SMS parts computed from the text', () => {
    spec.given([]).when(requestSms()).then([requestedEvent()]);
  });

  it('computes UCS-2 parts for a Czech text', () => {
    const text = 'Studio Zen: Rezervace R-42 potvrzena: Masáž zad, pá 14. 3. 14:15 SEČ, Studio Vinohrady.';
    spec
      .given([])
      .when(requestSms({ content: { text } }))
      .thenState((state) => {
        expect(state.status).toBe('requested');
        if (state.status === 'requested') expect(state.delivery.sms).toEqual({ encoding: 'UCS-2', parts: 2 });
      });
  });

  it('is idempotent: the same request again is a no-op, whatever state the delivery is in', () => {
    spec.given([requestedEvent()]).when(requestSms()).thenNothing();
    spec
      .given([requestedEvent(), started(1), sent()])
      .when(requestSms())
      .thenNothing();
  });

  it('refuses a different notification on the same stream', () => {
    spec
      .given([requestedEvent()])
      .when(requestSms({ notificationId: 'other' }))
      .thenThrows(IllegalStateError, 'delivery-identity-mismatch');
  });

  it('defaults to the standard maximum of attempts', () => {
    const { maxAttempts: _m, ...data } = requestSms().data;
    spec
      .given([])
      .when({ type: 'RequestNotification', data })
      .thenState((state) => {
        if (state.status !== 'requested') throw new Error(state.status);
        expect(state.delivery.maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
      });
  });

  it.each([
    ['an invalid phone number', { recipient: { type: 'customer' as const, address: '777 123' } }, 'invalid-recipient'],
    ['an empty text', { content: { text: '  ' } }, 'missing-field'],
    ['html in an SMS', { content: { text: 'x', html: '<p>x</p>' } }, 'invalid-content'],
    ['a wrong SMS part count', { sms: { encoding: 'GSM-7' as const, parts: 3 } }, 'sms-analysis-mismatch'],
    ['a negative cost', { cost: -1 }, 'invalid-number'],
    ['a request time without zone', { requestedAt: '2025-03-01T10:00:00' }, 'invalid-instant'],
  ])('refuses %s', (_name, change, code) => {
    spec.given([]).when(requestSms(change)).thenThrows(ValidationError, code);
  });

  it('requires a subject for an email', () => {
    spec
      .given([])
      .when(
        requestSms({
          channel: 'email',
          recipient: { type: 'customer', address: 'jana@example.com' },
          content: { text: 'Hello' },
        }),
      )
      .thenThrows(ValidationError, 'missing-field');
  });

  it('keeps email content, html and the calendar invitation', () => {
    const content = {
      subject: 'Confirmed',
      text: 'Hello',
      html: '<p>Hello</p>',
      ics: { method: 'REQUEST' as const, content: 'BEGIN:VCALENDAR\r\n' },
    };
    spec
      .given([])
      .when(requestSms({ channel: 'email', recipient: { type: 'customer', address: 'Jana@Example.com' }, content }))
      .thenState((state, events) => {
        expect(events[0]?.type).toBe('NotificationRequested');
        if (state.status !== 'requested') throw new Error(state.status);
        expect(state.delivery.content).toEqual(content);
        expect(state.delivery.maskedRecipient).toBe('J***@example.com');
        expect(state.delivery.sms).toBeUndefined();
      });
  });
});

describe('SkipNotification', () => {
  const identity = {
    notificationId: NOTIFICATION_ID,
    tenantId: 'tenant-1',
    reservationId: 'R-42',
    customerId: 'cust-7',
    kind: 'reservation-confirmed' as const,
    channel: 'sms' as const,
    recipientType: 'customer' as const,
    causationEventId: 'evt-100',
  };

  it('records a skip with its reason, without any contact', () => {
    spec
      .given([])
      .when({ type: 'SkipNotification', data: { reason: 'missing-contact', skippedAt: at, identity } })
      .then([{ type: 'NotificationSkipped', data: { ...identity, reason: 'missing-contact', skippedAt: at } }]);
  });

  it('needs the identity when nothing was requested', () => {
    spec
      .given([])
      .when({ type: 'SkipNotification', data: { reason: 'opted-out', skippedAt: at } })
      .thenThrows(ValidationError, 'missing-field');
  });

  it('skips a requested delivery that waits for its (next) attempt, e.g. out of credits', () => {
    spec
      .given([requestedEvent(), started(1), attemptFailed(1)])
      .when({ type: 'SkipNotification', data: { reason: 'obsolete', detail: 'reservation cancelled', skippedAt: at } })
      .thenState((state, events) => {
        expect(events).toEqual([
          {
            type: 'NotificationSkipped',
            data: {
              ...identity,
              maskedRecipient: '+42077****89',
              reason: 'obsolete',
              detail: 'reservation cancelled',
              skippedAt: at,
            },
          },
        ]);
        expect(state.status).toBe('skipped');
      });
  });

  it('is idempotent, and a request after a skip changes nothing', () => {
    const skipped: DeliveryEvent = {
      type: 'NotificationSkipped',
      data: { ...identity, reason: 'opted-out', skippedAt: at },
    };
    spec
      .given([skipped])
      .when({ type: 'SkipNotification', data: { reason: 'opted-out', skippedAt: at } })
      .thenNothing();
    spec.given([skipped]).when(requestSms()).thenNothing();
  });

  it('cannot skip a delivery being sent or already sent', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({ type: 'SkipNotification', data: { reason: 'obsolete', skippedAt: at } })
      .thenThrows(IllegalStateError, 'delivery-in-progress');
    spec
      .given([requestedEvent(), started(1), sent()])
      .when({ type: 'SkipNotification', data: { reason: 'obsolete', skippedAt: at } })
      .thenThrows(IllegalStateError, 'delivery-finished');
  });
});

describe('attempts', () => {
  it('starts the first attempt', () => {
    spec
      .given([requestedEvent()])
      .when({ type: 'StartAttempt', data: { attempt: 1, at } })
      .then([started(1, at)]);
  });

  it('treats the same start again as already done (a restarted worker must reconcile, not resend)', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({ type: 'StartAttempt', data: { attempt: 1, at } })
      .thenNothing();
  });

  it('refuses to skip attempt numbers or to start the next one while one is open', () => {
    spec
      .given([requestedEvent()])
      .when({ type: 'StartAttempt', data: { attempt: 2, at } })
      .thenThrows(IllegalStateError, 'attempt-out-of-order');
    spec
      .given([requestedEvent(), started(1)])
      .when({ type: 'StartAttempt', data: { attempt: 2, at } })
      .thenThrows(IllegalStateError, 'attempt-in-progress');
  });

  it('refuses to start anything that was never requested', () => {
    spec
      .given([])
      .when({ type: 'StartAttempt', data: { attempt: 1, at } })
      .thenThrows(IllegalStateError, 'delivery-not-requested');
  });

  it('does nothing for a stale job once the provider has accepted the message', () => {
    spec
      .given([requestedEvent(), started(1), sent()])
      .when({ type: 'StartAttempt', data: { attempt: 2, at } })
      .thenNothing();
  });

  it('records the provider acceptance', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({ type: 'RecordProviderAccepted', data: { providerMessageId: 'SM1', at: '2025-03-01T10:01:01.000Z' } })
      .then([sent('SM1', 1)]);
  });

  it('ignores the same acceptance twice, refuses a second different one', () => {
    const history = [requestedEvent(), started(1), sent('SM1')];
    spec
      .given(history)
      .when({ type: 'RecordProviderAccepted', data: { providerMessageId: 'SM1', at } })
      .thenNothing();
    spec
      .given(history)
      .when({ type: 'RecordProviderAccepted', data: { providerMessageId: 'SM2', at } })
      .thenThrows(IllegalStateError, 'already-sent');
  });

  it('retries a transient failure at the time given', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({
        type: 'RecordAttemptFailed',
        data: {
          attempt: 1,
          error: 'HTTP 503',
          transient: true,
          at: '2025-03-01T10:01:05.000Z',
          nextAttemptAt: '2025-03-01T10:02:00.000Z',
        },
      })
      .then([attemptFailed(1)]);
  });

  it('computes a retry time without jitter when none is given', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({
        type: 'RecordAttemptFailed',
        data: { attempt: 1, error: 'timeout', transient: true, at: '2025-03-01T10:00:00.000Z' },
      })
      .thenState((state, events) => {
        expect(events[0]?.type).toBe('NotificationAttemptFailed');
        if (state.status !== 'requested') throw new Error(state.status);
        expect(state.nextAttemptAt).toBe(
          new Date(Date.parse('2025-03-01T10:00:00.000Z') + retryDelayMs(1, 0)).toISOString(),
        );
        expect(state.lastError).toBe('timeout');
      });
  });

  it('fails a permanent error at once, without retry', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when({ type: 'RecordAttemptFailed', data: { attempt: 1, error: '21211 invalid number', transient: false, at } })
      .then([
        {
          type: 'NotificationFailed',
          data: { notificationId: NOTIFICATION_ID, attempt: 1, error: '21211 invalid number', stage: 'attempt', at },
        },
      ]);
  });

  it('dead-letters when transient failures exhaust the attempts', () => {
    spec
      .given([requestedEvent(), started(1), attemptFailed(1), started(2), attemptFailed(2), started(3)])
      .when({ type: 'RecordAttemptFailed', data: { attempt: 3, error: 'HTTP 429', transient: true, at } })
      .then([
        {
          type: 'NotificationDeadLettered',
          data: { notificationId: NOTIFICATION_ID, attempts: 3, error: 'HTTP 429', at },
        },
      ]);
  });

  it('ignores a repeated failure report and one for a finished attempt', () => {
    spec
      .given([requestedEvent(), started(1), attemptFailed(1)])
      .when({ type: 'RecordAttemptFailed', data: { attempt: 1, error: 'x', transient: true, at } })
      .thenNothing();
    spec
      .given([requestedEvent(), started(1), sent()])
      .when({ type: 'RecordAttemptFailed', data: { attempt: 1, error: 'x', transient: true, at } })
      .thenNothing();
  });

  it('refuses a failure for an attempt that never started', () => {
    spec
      .given([requestedEvent()])
      .when({ type: 'RecordAttemptFailed', data: { attempt: 1, error: 'x', transient: true, at } })
      .thenThrows(IllegalStateError, 'attempt-not-started');
  });

  it('records an acceptance found by reconciliation after an attempt was recorded as a timeout', () => {
    spec
      .given([requestedEvent(), started(1), attemptFailed(1)])
      .when({ type: 'RecordProviderAccepted', data: { providerMessageId: 'SM1', at } })
      .then([sent('SM1', 1, at)]);
  });
});

describe('provider status callbacks', () => {
  const sentHistory = [requestedEvent(), started(1), sent('SM1')];
  const status = (
    s: 'sent' | 'delivered' | 'undelivered' | 'failed' | 'bounced',
    providerMessageId = 'SM1',
    error?: string,
  ) => ({
    type: 'RecordProviderStatus' as const,
    data: { status: s, providerMessageId, at, ...(error ? { error } : {}) },
  });

  it('moves sent -> delivered', () => {
    spec
      .given(sentHistory)
      .when(status('delivered'))
      .then([
        { type: 'NotificationDelivered', data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM1', at } },
      ]);
  });

  it('records undelivered, bounced and failed with the provider error', () => {
    spec
      .given(sentHistory)
      .when(status('undelivered', 'SM1', '30003'))
      .then([
        {
          type: 'NotificationUndelivered',
          data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM1', at, error: '30003' },
        },
      ]);
    spec
      .given(sentHistory)
      .when(status('bounced', 'SM1', '550 no such user'))
      .then([
        {
          type: 'NotificationBounced',
          data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM1', at, error: '550 no such user' },
        },
      ]);
    spec
      .given(sentHistory)
      .when(status('failed', 'SM1', '30008'))
      .then([
        {
          type: 'NotificationFailed',
          data: {
            notificationId: NOTIFICATION_ID,
            attempt: 1,
            error: '30008',
            stage: 'provider',
            providerMessageId: 'SM1',
            at,
          },
        },
      ]);
  });

  it('only moves forward: a late "sent" after "delivered" and the same status twice change nothing', () => {
    const delivered: DeliveryEvent = {
      type: 'NotificationDelivered',
      data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM1', at },
    };
    spec
      .given([...sentHistory, delivered])
      .when(status('sent'))
      .thenNothing();
    spec
      .given([...sentHistory, delivered])
      .when(status('delivered'))
      .thenNothing();
    spec.given(sentHistory).when(status('sent')).thenNothing();
  });

  it('keeps the first final status', () => {
    const delivered: DeliveryEvent = {
      type: 'NotificationDelivered',
      data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM1', at },
    };
    spec
      .given([...sentHistory, delivered])
      .when(status('undelivered'))
      .thenNothing();
  });

  it('takes a callback that overtakes the recorded acceptance as the acceptance', () => {
    spec
      .given([requestedEvent(), started(1)])
      .when(status('delivered', 'SM9'))
      .then([
        sent('SM9', 1, at),
        { type: 'NotificationDelivered', data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM9', at } },
      ]);
    spec
      .given([requestedEvent(), started(1), sent('SM9', 1, at)])
      .when({ type: 'RecordProviderAccepted', data: { providerMessageId: 'SM9', at } })
      .thenNothing();
  });

  it('refuses a status for another message or for a delivery never attempted', () => {
    spec
      .given(sentHistory)
      .when(status('delivered', 'SM-other'))
      .thenThrows(IllegalStateError, 'provider-message-mismatch');
    spec.given([requestedEvent()]).when(status('delivered')).thenThrows(IllegalStateError, 'attempt-not-started');
    spec.given([]).when(status('delivered')).thenThrows(IllegalStateError, 'delivery-not-requested');
  });

  it('refuses an unknown status', () => {
    spec
      .given(sentHistory)
      .when({ type: 'RecordProviderStatus', data: { status: 'read' as never, providerMessageId: 'SM1', at } })
      .thenThrows(ValidationError, 'invalid-provider-status');
  });
});

describe('Resend by staff', () => {
  const deadLettered: DeliveryEvent[] = [
    requestedEvent(),
    started(1),
    attemptFailed(1),
    started(2),
    attemptFailed(2),
    started(3),
    { type: 'NotificationDeadLettered', data: { notificationId: NOTIFICATION_ID, attempts: 3, error: 'HTTP 503', at } },
  ];

  it('puts a dead-lettered delivery back to requested with the attempts reset, in a new round', () => {
    spec
      .given(deadLettered)
      .when({ type: 'Resend', data: { by: 'staff-1', at } })
      .thenState((state, events) => {
        expect(events).toEqual([
          {
            type: 'NotificationResendRequested',
            data: { notificationId: NOTIFICATION_ID, by: 'staff-1', at, round: 2 },
          },
        ]);
        expect(state).toMatchObject({ status: 'requested', attempts: 0, round: 2 });
      });
  });

  it('lets the new round start again at attempt 1', () => {
    const resent: DeliveryEvent = {
      type: 'NotificationResendRequested',
      data: { notificationId: NOTIFICATION_ID, by: 'staff-1', at, round: 2 },
    };
    spec
      .given([...deadLettered, resent])
      .when({ type: 'StartAttempt', data: { attempt: 1, at } })
      .then([
        { type: 'NotificationAttemptStarted', data: { notificationId: NOTIFICATION_ID, attempt: 1, round: 2, at } },
      ]);
  });

  it('re-sends a permanently failed one, and a second click is harmless', () => {
    const failed: DeliveryEvent = {
      type: 'NotificationFailed',
      data: { notificationId: NOTIFICATION_ID, attempt: 1, error: 'invalid', stage: 'attempt', at },
    };
    spec
      .given([requestedEvent(), started(1), failed])
      .when({ type: 'Resend', data: { by: 'staff-1', at } })
      .thenState((state) => expect(state.status).toBe('requested'));
    const resent: DeliveryEvent = {
      type: 'NotificationResendRequested',
      data: { notificationId: NOTIFICATION_ID, by: 'staff-1', at, round: 2 },
    };
    spec
      .given([requestedEvent(), started(1), failed, resent])
      .when({ type: 'Resend', data: { by: 'staff-2', at } })
      .thenNothing();
  });

  it('never re-sends a message the provider accepted', () => {
    const history = [requestedEvent(), started(1), sent('SM1')];
    spec
      .given(history)
      .when({ type: 'Resend', data: { by: 'staff-1', at } })
      .thenThrows(IllegalStateError, 'already-sent');
    const failedAfter: DeliveryEvent = {
      type: 'NotificationFailed',
      data: {
        notificationId: NOTIFICATION_ID,
        attempt: 1,
        error: '30008',
        stage: 'provider',
        providerMessageId: 'SM1',
        at,
      },
    };
    spec
      .given([...history, failedAfter])
      .when({ type: 'Resend', data: { by: 'staff-1', at } })
      .thenThrows(IllegalStateError, 'already-sent');
  });

  it('cannot re-send what was skipped or never requested', () => {
    spec
      .given([])
      .when({ type: 'Resend', data: { by: 'staff-1', at } })
      .thenThrows(IllegalStateError, 'delivery-not-requested');
  });
});

describe('state after a full history', () => {
  it('keeps the provider id, timestamps and attempts for the audit trail', () => {
    const state: DeliveryState = fold(deliveryDecider, [
      requestedEvent(),
      started(1),
      attemptFailed(1),
      started(2),
      sent('SM7', 2, '2025-03-01T10:02:01.000Z'),
      {
        type: 'NotificationDelivered',
        data: { notificationId: NOTIFICATION_ID, providerMessageId: 'SM7', at: '2025-03-01T10:02:09.000Z' },
      },
    ]);
    expect(state).toMatchObject({
      status: 'delivered',
      attempts: 2,
      round: 1,
      providerMessageId: 'SM7',
      sentAt: '2025-03-01T10:02:01.000Z',
      deliveredAt: '2025-03-01T10:02:09.000Z',
      lastError: 'HTTP 503',
    });
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt, from 2.5-5 s, capped at 10 minutes', () => {
    expect(retryDelayMs(1, 0)).toBe(2_500);
    expect(retryDelayMs(1, 1)).toBe(5_000);
    expect(retryDelayMs(2, 1)).toBe(10_000);
    expect(retryDelayMs(3, 0.5)).toBe(15_000);
    expect(retryDelayMs(20, 1)).toBe(600_000);
    expect(retryDelayMs(2000, 1)).toBe(600_000);
  });

  it('is deterministic and grows monotonically for a fixed jitter', () => {
    for (const jitter of [0, 0.3, 1]) {
      let previous = 0;
      for (let attempt = 1; attempt <= 15; attempt++) {
        const delay = retryDelayMs(attempt, jitter);
        expect(delay).toBe(retryDelayMs(attempt, jitter));
        expect(delay).toBeGreaterThanOrEqual(previous);
        previous = delay;
      }
    }
  });

  it('accepts a custom policy', () => {
    expect(retryDelayMs(3, 1, { baseMs: 100, maxMs: 1_000 })).toBe(400);
  });

  it('refuses attempt numbers below 1 and jitter outside [0, 1]', () => {
    expect(() => retryDelayMs(0, 0.5)).toThrow(ValidationError);
    expect(() => retryDelayMs(1, 1.5)).toThrow(ValidationError);
    expect(() => retryDelayMs(1, Number.NaN)).toThrow(ValidationError);
  });
});
