import { describe, expect, it } from 'vitest';
import { NotFoundError, IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import {
  webhookEndpointDecider,
  type WebhookEndpointEvent,
  type WebhookEndpointState,
} from '../../../src/domain/webhooks/webhook-endpoint.decider.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { deciderSpec } from '../support/decider-spec.js';

const decider = webhookEndpointDecider(['ReservationConfirmed', 'ReservationCancelled']);
const spec = deciderSpec(decider);
const sealed = { v: 1 as const, keyId: 'k', iv: 'iv', ciphertext: 'c', tag: 't' };
const stamp = (at = '2026-01-01T10:00:00.000Z') => ({ tenantId: 'acme', endpointId: 'e1', at, by: 'apikey:1' });
const created: WebhookEndpointEvent = {
  type: 'WebhookEndpointCreated',
  data: { ...stamp(), url: 'https://hooks.example.com/in', eventTypes: null, description: 'CRM', secret: sealed },
};
const payload = (n: number, type = 'ReservationConfirmed') => ({
  type,
  timestamp: `2026-01-01T10:0${n}:00.000Z`,
  data: { reservationId: `r${n}` },
});
const queued = (n: number, type = 'ReservationConfirmed'): WebhookEndpointEvent => ({
  type: 'WebhookEventQueued',
  data: {
    ...stamp(),
    by: 'system:webhook-outbox',
    deliveryId: `msg_${n}`,
    eventId: `ev${n}`,
    payload: payload(n, type),
  },
});
const attempt = (n: number, attemptNo: number, delivered: boolean, at = '2026-01-01T10:10:00.000Z') => ({
  type: 'RecordWebhookAttempt' as const,
  data: {
    ...stamp(at),
    by: 'system:webhook-sender',
    deliveryId: `msg_${n}`,
    attempt: attemptNo,
    status: delivered ? 200 : 500,
    error: delivered ? null : 'HTTP 500',
    durationMs: 12,
    delivered,
    nextAttemptAt: delivered ? null : '2026-01-01T10:11:00.000Z',
  },
});
const attempted = (n: number, no: number, delivered: boolean): WebhookEndpointEvent => ({
  type: 'WebhookDeliveryAttempted',
  data: attempt(n, no, delivered).data,
});
const active = (state: WebhookEndpointState) => {
  if (state.status === 'none') throw new Error('no endpoint');
  return state;
};

describe('webhook endpoint decider', () => {
  it('creates an endpoint with a sealed secret; the same create again decides nothing', () => {
    spec
      .given([])
      .when({ type: 'CreateWebhookEndpoint', data: created.data as never })
      .then([created]);
  });

  it('refuses a URL that is not http(s), carries a password or a fragment, and unknown event types', () => {
    for (const url of ['ftp://x.example/', 'https://u:p@x.example/', 'https://x.example/#f', 'not a url']) {
      spec
        .given([])
        .when({ type: 'CreateWebhookEndpoint', data: { ...(created.data as object), url } as never })
        .thenThrows(ValidationError, { details: { field: 'url' } });
    }
    spec
      .given([])
      .when({
        type: 'CreateWebhookEndpoint',
        data: { ...(created.data as object), eventTypes: ['StaffAccountCreated'] } as never,
      })
      .thenThrows(ValidationError, { details: { field: 'eventTypes.0' } });
  });

  it('queues events in order, once each, and only those the filter wants', () => {
    const filtered: WebhookEndpointEvent = {
      type: 'WebhookEndpointUpdated',
      data: { ...stamp(), eventTypes: ['ReservationCancelled'] },
    };
    spec
      .given([created, queued(1)])
      .when({ type: 'QueueWebhookEvent', data: queued(1).data as never })
      .thenNothing();
    spec
      .given([created, filtered])
      .when({ type: 'QueueWebhookEvent', data: queued(2).data as never })
      .thenNothing();
    const state = active(fold(decider, [created, queued(1), queued(2)]));
    expect(state.queue).toEqual(['msg_1', 'msg_2']);
  });

  it('sends only the head: the next event waits until the previous one is delivered', () => {
    spec
      .given([created, queued(1), queued(2)])
      .when(attempt(2, 1, true))
      .thenNothing();
    const after = spec
      .given([created, queued(1), queued(2)])
      .when(attempt(1, 1, false))
      .then([attempted(1, 1, false)]);
    expect(active(after).queue).toEqual(['msg_1', 'msg_2']);
    const delivered = spec
      .given([created, queued(1), queued(2), attempted(1, 1, false)])
      .when(attempt(1, 2, true))
      .then([attempted(1, 2, true)]);
    expect(active(delivered).queue).toEqual(['msg_2']);
    expect(active(delivered).deliveries.msg_1!.attempts.map((a) => a.status)).toEqual([500, 200]);
  });

  it('records an attempt number once: a retried record after a crash appends nothing', () => {
    spec
      .given([created, queued(1), attempted(1, 1, false)])
      .when(attempt(1, 1, false))
      .thenNothing();
    spec
      .given([created, queued(1), attempted(1, 1, true)])
      .when(attempt(1, 2, true))
      .thenNothing();
  });

  it('pauses with the undelivered events kept; a resume restarts the retry round from the first of them', () => {
    const paused = spec
      .given([created, queued(1), queued(2), attempted(1, 1, false)])
      .when({
        type: 'PauseWebhookEndpoint',
        data: { ...stamp(), by: 'system:webhook-sender', reason: 'failing', detail: 'x' },
      })
      .then([
        {
          type: 'WebhookEndpointPaused',
          data: { ...stamp(), by: 'system:webhook-sender', reason: 'failing', detail: 'x', undelivered: 2 },
        },
      ]);
    expect(paused.status).toBe('paused');
    const resumedEvent: WebhookEndpointEvent = {
      type: 'WebhookEndpointResumed',
      data: { ...stamp('2026-01-02T00:00:00.000Z'), undelivered: 2 },
    };
    const resumed = active(decider.evolve(paused, resumedEvent));
    expect(resumed.status).toBe('active');
    expect(resumed.queue).toEqual(['msg_1', 'msg_2']);
    expect(resumed.deliveries.msg_1).toMatchObject({
      attemptsThisRound: 0,
      failingSince: null,
      nextAttemptAt: '2026-01-02T00:00:00.000Z',
    });
  });

  it('replays a delivered event with the same webhook-id, at the end of the queue; a pending one is refused', () => {
    const after = spec
      .given([created, queued(1), attempted(1, 1, true), queued(2)])
      .when({ type: 'ReplayWebhookDeliveries', data: { ...stamp(), deliveryIds: ['msg_1'] } })
      .then([{ type: 'WebhookDeliveriesReplayed', data: { ...stamp(), deliveryIds: ['msg_1'] } }], {
        resendDecidesNothing: false,
      });
    expect(active(after).queue).toEqual(['msg_2', 'msg_1']);
    expect(active(after).deliveries.msg_1!.status).toBe('pending');
    spec
      .given([created, queued(1)])
      .when({ type: 'ReplayWebhookDeliveries', data: { ...stamp(), deliveryIds: ['msg_1'] } })
      .thenThrows(IllegalStateError, { code: 'webhook-delivery-pending' });
    spec
      .given([created])
      .when({ type: 'ReplayWebhookDeliveries', data: { ...stamp(), deliveryIds: ['msg_9'] } })
      .thenThrows(NotFoundError, { code: 'webhook-delivery-not-found' });
  });

  it('a deleted endpoint takes no more events and is not found', () => {
    const deleted: WebhookEndpointEvent = { type: 'WebhookEndpointDeleted', data: stamp() };
    spec
      .given([created, deleted])
      .when({ type: 'QueueWebhookEvent', data: queued(1).data as never })
      .thenNothing();
    spec
      .given([created, deleted])
      .when({ type: 'PauseWebhookEndpoint', data: { ...stamp(), reason: 'manual' } })
      .thenThrows(NotFoundError);
  });
  it('lets one sender at a time attempt the head: a second start within the lease decides nothing', () => {
    const start = (at: string) => ({
      type: 'StartWebhookAttempt' as const,
      data: { ...stamp(at), deliveryId: 'msg_1', attempt: 1, leaseUntil: '2026-01-01T10:01:00.000Z' },
    });
    const started = spec
      .given([created, queued(1)])
      .when(start('2026-01-01T10:00:00.000Z'))
      .then([{ type: 'WebhookDeliveryAttemptStarted', data: start('2026-01-01T10:00:00.000Z').data }]);
    expect(decider.decide(start('2026-01-01T10:00:30.000Z'), started)).toEqual([]);
    // A crashed sender's lease ends: the next sender may attempt again (the same webhook-id).
    expect(decider.decide(start('2026-01-01T10:01:01.000Z'), started)).toHaveLength(1);
    spec
      .given([created, queued(1), queued(2)])
      .when({
        ...start('2026-01-01T10:00:00.000Z'),
        data: { ...start('2026-01-01T10:00:00.000Z').data, deliveryId: 'msg_2' },
      })
      .thenNothing();
  });
});
