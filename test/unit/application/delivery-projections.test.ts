import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/application/ports/event-store.port.js';
import {
  deliveriesProjection,
  deliveryDocumentId,
  type DeliveryDocument,
} from '../../../src/application/projections/deliveries.projection.js';
import {
  notificationAuditLogProjection,
  type AuditEntryDocument,
} from '../../../src/application/projections/notification-audit-log.projection.js';
import type { DeliveryEvent } from '../../../src/domain/notification/index.js';

const TENANT = 'tenant-1';
const ID = 'ntf-1';
const PHONE = '+420771234589';
const TEXT = 'Studio Zen: Reservation R-42 confirmed: Massage, Fri 14 Mar, 14:15 CET, Studio Vinohrady.';

function recordedStream() {
  let position = 100n;
  return (event: DeliveryEvent, notificationId = ID): RecordedEvent => {
    position++;
    return {
      id: `evt-${position}`,
      streamName: `notification-${notificationId}`,
      type: event.type,
      data: { ...event.data, notificationId } as Record<string, unknown>,
      metadata: { tenantId: TENANT, actor: 'system:notification-worker', correlationId: 'corr-1' },
      revision: position - 101n,
      position,
      recordedAt: '2030-01-01T00:00:00.000Z',
    };
  };
}

const requested = (overrides: Record<string, unknown> = {}): DeliveryEvent =>
  ({
    type: 'NotificationRequested',
    data: {
      notificationId: ID,
      tenantId: TENANT,
      reservationId: 'R-42',
      customerId: 'cust-7',
      kind: 'reservation-confirmed',
      channel: 'sms',
      recipient: { type: 'customer', address: PHONE },
      maskedRecipient: '+42077****89',
      content: { text: `${TEXT}\nReply STOP to opt out.` },
      sms: { encoding: 'GSM-7', parts: 1 },
      cost: 1,
      causationEventId: 'evt-7',
      causedAt: '2025-03-01T09:59:59.500Z',
      requestedAt: '2025-03-01T10:00:00.000Z',
      maxAttempts: 3,
      ...overrides,
    },
  }) as DeliveryEvent;
const started = (attempt: number, at: string): DeliveryEvent => ({
  type: 'NotificationAttemptStarted',
  data: { notificationId: ID, attempt, round: 1, at },
});
const attemptFailed = (attempt: number, at: string): DeliveryEvent => ({
  type: 'NotificationAttemptFailed',
  data: { notificationId: ID, attempt, error: 'HTTP 503', transient: true, at, nextAttemptAt: at },
});
const sent = (attempt: number, at: string): DeliveryEvent => ({
  type: 'NotificationSent',
  data: { notificationId: ID, attempt, providerMessageId: 'SM1', at },
});
const delivered = (at: string): DeliveryEvent => ({
  type: 'NotificationDelivered',
  data: { notificationId: ID, providerMessageId: 'SM1', at },
});
const skipped = (reason: 'opted-out' | 'obsolete', skippedAt: string, detail?: string): DeliveryEvent => ({
  type: 'NotificationSkipped',
  data: {
    notificationId: ID,
    tenantId: TENANT,
    reservationId: 'R-42',
    customerId: 'cust-7',
    kind: 'reservation-reminder',
    channel: 'sms',
    recipientType: 'customer',
    maskedRecipient: '+42077****89',
    causationEventId: 'evt-8',
    reason,
    ...(detail ? { detail } : {}),
    skippedAt,
  },
});

function project(events: RecordedEvent[]): DeliveryDocument | null {
  let doc: DeliveryDocument | null = null;
  for (const event of events) {
    expect(deliveriesProjection.documentId(event)).toBe(`${TENANT}:${ID}`);
    doc = deliveriesProjection.evolve(doc, event);
  }
  return doc;
}

describe('deliveries projection', () => {
  it('keys the document by tenant and notification id', () => {
    const record = recordedStream();
    expect(deliveriesProjection.documentId(record(started(1, '2025-03-01T10:00:01.000Z'), 'ntf-9'))).toBe(
      deliveryDocumentId(TENANT, 'ntf-9'),
    );
    expect(deliveryDocumentId(TENANT, 'ntf-9')).toBe('tenant-1:ntf-9');
  });

  it('follows requested, sending, retrying, sending, sent, delivered with attempts and latencies', () => {
    const record = recordedStream();
    const events = [
      record(requested()),
      record(started(1, '2025-03-01T10:00:01.000Z')),
      record(attemptFailed(1, '2025-03-01T10:00:02.000Z')),
      record(started(2, '2025-03-01T10:00:30.000Z')),
      record(sent(2, '2025-03-01T10:00:31.000Z')),
      record(delivered('2025-03-01T10:00:45.500Z')),
    ];

    const afterRequest = project(events.slice(0, 1))!;
    expect(afterRequest).toMatchObject({
      tenantId: TENANT,
      notificationId: ID,
      reservationId: 'R-42',
      customerId: 'cust-7',
      kind: 'reservation-confirmed',
      channel: 'sms',
      recipientType: 'customer',
      maskedRecipient: '+42077****89',
      summary: TEXT,
      status: 'requested',
      smsEncoding: 'GSM-7',
      smsParts: 1,
      cost: 1,
      attempts: 0,
      day: '2025-03-01',
      finishedAt: null,
    });
    expect(JSON.stringify(afterRequest)).not.toContain(PHONE);

    const retrying = project(events.slice(0, 3))!;
    expect(retrying).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'HTTP 503', finishedAt: null });

    const doc = project(events)!;
    expect(doc.history).toEqual([
      { status: 'requested', at: '2025-03-01T10:00:00.000Z', eventId: 'evt-101' },
      { status: 'sending', at: '2025-03-01T10:00:01.000Z', eventId: 'evt-102', attempt: 1 },
      { status: 'retrying', at: '2025-03-01T10:00:02.000Z', eventId: 'evt-103', attempt: 1, detail: 'HTTP 503' },
      { status: 'sending', at: '2025-03-01T10:00:30.000Z', eventId: 'evt-104', attempt: 2 },
      { status: 'sent', at: '2025-03-01T10:00:31.000Z', eventId: 'evt-105', attempt: 2 },
      { status: 'delivered', at: '2025-03-01T10:00:45.500Z', eventId: 'evt-106' },
    ]);
    expect(doc).toMatchObject({
      status: 'delivered',
      attempts: 2,
      providerMessageId: 'SM1',
      sentAt: '2025-03-01T10:00:31.000Z',
      deliveredAt: '2025-03-01T10:00:45.500Z',
      finishedAt: '2025-03-01T10:00:45.500Z',
      // from the causing event, not from the request
      latencyToSentMs: 31_500,
      latencyToDeliveredMs: 46_000,
    });
  });

  it('measures latency from the request when the cause time is unknown', () => {
    const record = recordedStream();
    const doc = project([
      record(requested({ causedAt: undefined })),
      record(started(1, '2025-03-01T10:00:01.000Z')),
      record(sent(1, '2025-03-01T10:00:02.000Z')),
    ])!;
    expect(doc.latencyToSentMs).toBe(2_000);
  });

  it('records a skip that had no request as a finished delivery', () => {
    const record = recordedStream();
    const doc = project([record(skipped('opted-out', '2025-03-02T08:00:00.000Z'))])!;

    expect(doc).toMatchObject({
      status: 'skipped',
      skipReason: 'opted-out',
      kind: 'reservation-reminder',
      channel: 'sms',
      recipientType: 'customer',
      maskedRecipient: '+42077****89',
      reservationId: 'R-42',
      customerId: 'cust-7',
      causationEventId: 'evt-8',
      attempts: 0,
      cost: 0,
      requestedAt: '2025-03-02T08:00:00.000Z',
      finishedAt: '2025-03-02T08:00:00.000Z',
      day: '2025-03-02',
    });
    expect(doc.history).toEqual([
      { status: 'skipped', at: '2025-03-02T08:00:00.000Z', eventId: 'evt-101', detail: 'opted-out' },
    ]);
  });

  it('appends a skip after a request to the history the request started', () => {
    const record = recordedStream();
    const doc = project([
      record(requested()),
      record(skipped('obsolete', '2025-03-01T11:00:00.000Z', 'reservation cancelled')),
    ])!;

    expect(doc).toMatchObject({ status: 'skipped', skipReason: 'obsolete', kind: 'reservation-confirmed', cost: 1 });
    expect(doc.history.map((h) => [h.status, h.detail])).toEqual([
      ['requested', undefined],
      ['skipped', 'obsolete: reservation cancelled'],
    ]);
  });

  it('marks a final failure finished, with the error', () => {
    const record = recordedStream();
    const doc = project([
      record(requested()),
      record(started(1, '2025-03-01T10:00:01.000Z')),
      record({
        type: 'NotificationFailed',
        data: {
          notificationId: ID,
          attempt: 1,
          error: '21211 invalid To number',
          stage: 'attempt',
          at: '2025-03-01T10:00:02.000Z',
        },
      }),
    ])!;

    expect(doc).toMatchObject({
      status: 'failed',
      lastError: '21211 invalid To number',
      finishedAt: '2025-03-01T10:00:02.000Z',
      attempts: 1,
      sentAt: null,
    });
    expect(doc.history.at(-1)).toEqual({
      status: 'failed',
      at: '2025-03-01T10:00:02.000Z',
      eventId: 'evt-103',
      attempt: 1,
      detail: '21211 invalid To number',
    });
  });

  it('marks a dead letter finished, with the last error', () => {
    const record = recordedStream();
    const doc = project([
      record(requested()),
      record(started(1, '2025-03-01T10:00:01.000Z')),
      record(attemptFailed(1, '2025-03-01T10:00:02.000Z')),
      record({
        type: 'NotificationDeadLettered',
        data: { notificationId: ID, attempts: 3, error: 'connection refused', at: '2025-03-01T10:10:00.000Z' },
      }),
    ])!;

    expect(doc).toMatchObject({
      status: 'dead-lettered',
      lastError: 'connection refused',
      finishedAt: '2025-03-01T10:10:00.000Z',
    });
    expect(doc.history.at(-1)).toEqual({
      status: 'dead-lettered',
      at: '2025-03-01T10:10:00.000Z',
      eventId: 'evt-104',
      detail: 'connection refused',
    });
  });

  it('ignores events of a delivery it has no document for', () => {
    const record = recordedStream();
    for (const event of [
      started(1, '2025-03-01T10:00:01.000Z'),
      attemptFailed(1, '2025-03-01T10:00:02.000Z'),
      sent(1, '2025-03-01T10:00:02.000Z'),
      delivered('2025-03-01T10:00:03.000Z'),
    ]) {
      expect(deliveriesProjection.evolve(null, record(event))).toBeNull();
    }
  });
});

describe('notification audit log projection', () => {
  const audit = (event: RecordedEvent, existing: AuditEntryDocument | null = null) =>
    notificationAuditLogProjection.evolve(existing, event);

  it('keeps one entry per event, without the message or the address', () => {
    const record = recordedStream();
    const event = record(requested());
    const entry = audit(event)!;

    expect(notificationAuditLogProjection.documentId(event)).toBe(`${TENANT}:evt-101`);
    expect(entry).toMatchObject({
      tenantId: TENANT,
      eventId: 'evt-101',
      notificationId: ID,
      type: 'NotificationRequested',
      at: '2025-03-01T10:00:00.000Z',
      position: '00000000000000000101',
      actor: 'system:notification-worker',
      correlationId: 'corr-1',
      causationId: null,
    });
    expect(entry.detail).toMatchObject({ maskedRecipient: '+42077****89', kind: 'reservation-confirmed', cost: 1 });
    expect(entry.detail).not.toHaveProperty('content');
    expect(entry.detail).not.toHaveProperty('recipient');
    const serialized = JSON.stringify(entry);
    expect(serialized).not.toContain(PHONE);
    expect(serialized).not.toContain('Reservation R-42 confirmed');
  });

  it('never changes an entry once written', () => {
    const record = recordedStream();
    const first = audit(record(requested()))!;
    const frozen = structuredClone(first);

    const later = record(started(1, '2025-03-01T10:00:01.000Z'));
    expect(audit(later, first)).toBe(first);
    expect(first).toEqual(frozen);
  });

  it('dates each entry by the event', () => {
    const record = recordedStream();
    expect(audit(record(skipped('opted-out', '2025-03-02T08:00:00.000Z')))!.at).toBe('2025-03-02T08:00:00.000Z');
    expect(audit(record(sent(1, '2025-03-01T10:00:31.000Z')))!.at).toBe('2025-03-01T10:00:31.000Z');
  });
});
