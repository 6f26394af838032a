import { describe, expect, it } from 'vitest';
import type { CreateService, ServiceCommand, ServiceEvent } from '../../../src/domain/catalog/service.decider.js';
import { serviceDecider, serviceStreamName } from '../../../src/domain/catalog/service.decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(serviceDecider);
const NOW = '2025-03-01T09:00:00.000Z';
const ACTOR = 'staff:admin';

const create = (overrides: Record<string, unknown> = {}): CreateService => ({
  type: 'CreateService',
  data: {
    serviceId: 'svc-swim',
    tenantId: 'acme',
    locationId: 'loc-pool',
    name: 'Morning swim',
    description: 'Lane swimming, 60 minutes.',
    durationMinutes: 60,
    seatsPerSlot: 8,
    bufferMinutes: 15,
    maxPartySize: 4,
    resourceIds: ['lane-1', 'lane-2'],
    requiresConfirmation: false,
    slotIntervalMinutes: 75,
    now: NOW,
    actor: ACTOR,
    ...overrides,
  } as CreateService['data'],
});
const service = {
  serviceId: 'svc-swim',
  tenantId: 'acme',
  locationId: 'loc-pool',
  name: 'Morning swim',
  description: 'Lane swimming, 60 minutes.',
  durationMinutes: 60,
  seatsPerSlot: 8,
  bufferMinutes: 15,
  maxPartySize: 4,
  resourceIds: ['lane-1', 'lane-2'],
  requiresConfirmation: false,
  slotIntervalMinutes: 75,
};
const created: ServiceEvent = { type: 'ServiceCreated', data: { ...service, createdAt: NOW, actor: ACTOR } };
const archived: ServiceEvent = {
  type: 'ServiceArchived',
  data: { serviceId: 'svc-swim', reason: 'season over', archivedAt: NOW, actor: ACTOR },
};
const update = (changes: Record<string, unknown>): ServiceCommand => ({
  type: 'UpdateService',
  data: { serviceId: 'svc-swim', now: NOW, actor: ACTOR, ...changes },
});

describe('service decider', () => {
  it('names streams service-<tenant>+<id>', () => {
    expect(serviceStreamName('acme', 'svc-swim')).toBe('service-acme+svc-swim');
  });

  describe('CreateService', () => {
    it('creates a service', () => {
      spec.given([]).when(create()).then([created]);
    });

    it('fills in defaults: no buffer, parties of one, no confirmation step, back-to-back slots, no description', () => {
      const minimal = create();
      const {
        description: _d,
        bufferMinutes: _b,
        maxPartySize: _m,
        requiresConfirmation: _r,
        slotIntervalMinutes: _s,
        ...rest
      } = minimal.data;
      spec
        .given([])
        .when({ type: 'CreateService', data: rest })
        .then([
          {
            type: 'ServiceCreated',
            data: {
              ...service,
              description: '',
              bufferMinutes: 0,
              maxPartySize: 1,
              requiresConfirmation: false,
              slotIntervalMinutes: 60,
              createdAt: NOW,
              actor: ACTOR,
            },
          },
        ]);
    });

    it('refuses another service under an existing id', () => {
      spec
        .given([created])
        .when(create({ durationMinutes: 30 }))
        .thenThrows(IllegalStateError, { code: 'service-already-exists' });
    });

    it.each([
      ['durationMinutes', { durationMinutes: 0 }, 'range'],
      ['durationMinutes', { durationMinutes: 1441 }, 'range'],
      ['durationMinutes', { durationMinutes: '60' }, 'integer'],
      ['seatsPerSlot', { seatsPerSlot: 0 }, 'range'],
      ['bufferMinutes', { bufferMinutes: -5 }, 'range'],
      ['maxPartySize', { maxPartySize: 9 }, 'at-most-seats-per-slot'],
      ['slotIntervalMinutes', { slotIntervalMinutes: 0 }, 'range'],
      ['resourceIds', { resourceIds: [] }, 'non-empty'],
      ['resourceIds', { resourceIds: ['lane-1', 'lane-1'] }, 'unique'],
      ['resourceIds[1]', { resourceIds: ['lane-1', ''] }, 'id'],
      ['requiresConfirmation', { requiresConfirmation: 'yes' }, 'boolean'],
      ['name', { name: '' }, 'required'],
      ['description', { description: 'x'.repeat(4001) }, 'max-length'],
    ] as const)('rejects a bad %s', (field, overrides, rule) => {
      spec
        .given([])
        .when(create(overrides))
        .thenThrows(ValidationError, { code: 'invalid-input', details: { field, rule } });
    });
  });

  describe('UpdateService', () => {
    it('records only the fields that changed', () => {
      const state = spec
        .given([created])
        .when(update({ name: 'Morning swim', requiresConfirmation: true, resourceIds: ['lane-3'] }))
        .then([
          {
            type: 'ServiceUpdated',
            data: {
              serviceId: 'svc-swim',
              changes: { requiresConfirmation: true, resourceIds: ['lane-3'] },
              updatedAt: NOW,
              actor: ACTOR,
            },
          },
        ]);
      expect(state).toMatchObject({
        service: { requiresConfirmation: true, resourceIds: ['lane-3'], seatsPerSlot: 8 },
      });
    });

    it('checks the rules across fields on the result', () => {
      spec
        .given([created])
        .when(update({ seatsPerSlot: 2 }))
        .thenThrows(ValidationError, { details: { field: 'maxPartySize', rule: 'at-most-seats-per-slot' } });
    });

    it('is a no-op when nothing changes', () => {
      spec
        .given([created])
        .when(update({ durationMinutes: 60, resourceIds: ['lane-1', 'lane-2'] }))
        .thenNothing();
    });

    it('refuses an archived service and does not know a missing one', () => {
      spec
        .given([created, archived])
        .when(update({ name: 'x' }))
        .thenThrows(IllegalStateError, { code: 'service-archived' });
      spec
        .given([])
        .when(update({ name: 'x' }))
        .thenThrows(NotFoundError, { code: 'service-not-found' });
    });
  });

  describe('ArchiveService', () => {
    const archive: ServiceCommand = {
      type: 'ArchiveService',
      data: { serviceId: 'svc-swim', reason: 'season over', now: NOW, actor: ACTOR },
    };

    it('archives, once', () => {
      spec.given([created]).when(archive).then([archived]);
      spec.given([created, archived]).when(archive).thenNothing();
    });

    it('does not know a service that was never created', () => {
      spec.given([]).when(archive).thenThrows(NotFoundError);
    });
  });
});

describe('texts of one occurrence', () => {
  const created = serviceDecider.decide(create(), serviceDecider.initialState());
  const set = (texts: { description?: string; afterPaymentText?: string }, start = '2025-03-10T08:00:00+01:00') => ({
    type: 'SetOccurrenceTexts' as const,
    data: { serviceId: 'svc-swim', start, ...texts, now: NOW, actor: ACTOR },
  });
  const changed = (description: string, afterPaymentText: string): ServiceEvent => ({
    type: 'ServiceOccurrenceTextsChanged',
    data: {
      serviceId: 'svc-swim',
      start: '2025-03-10T07:00:00.000Z',
      description,
      afterPaymentText,
      changedAt: NOW,
      actor: ACTOR,
    },
  });

  it('are recorded under the slot start in UTC, kept in the state, and the same texts again are nothing', () => {
    const state = spec
      .given(created)
      .when(set({ afterPaymentText: 'Code 4711' }))
      .then([changed('', 'Code 4711')]);
    expect(state).toMatchObject({ occurrences: { '2025-03-10T07:00:00.000Z': { afterPaymentText: 'Code 4711' } } });
  });

  it('both empty removes them', () => {
    const state = spec
      .given([...created, changed('Room B', 'Code 4711')])
      .when(set({}))
      .then([changed('', '')]);
    expect(state).toMatchObject({ occurrences: {} });
  });

  it('refuse unsafe text, and an archived or unknown service', () => {
    spec
      .given(created)
      .when(set({ description: 'a\u202Eb' }))
      .thenThrows(ValidationError);
    spec
      .given([])
      .when(set({ description: 'x' }))
      .thenThrows(NotFoundError);
    const archived = serviceDecider.decide(
      { type: 'ArchiveService', data: { serviceId: 'svc-swim', now: NOW, actor: ACTOR } },
      serviceDecider.evolve(serviceDecider.initialState(), created[0]!),
    );
    spec
      .given([...created, ...archived])
      .when(set({ description: 'x' }))
      .thenThrows(IllegalStateError);
  });
});
