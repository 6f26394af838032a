import { describe, expect, it } from 'vitest';
import type { CreateResource, ResourceCommand, ResourceEvent } from '../../../src/domain/catalog/resource.decider.js';
import { resourceDecider, resourceStreamName } from '../../../src/domain/catalog/resource.decider.js';
import type { WeeklyHours } from '../../../src/domain/catalog/schedule.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(resourceDecider);
const NOW = '2025-03-01T09:00:00.000Z';
const ACTOR = 'staff:admin';

const weeklyHours: WeeklyHours = {
  monday: [
    { start: '09:00', end: '12:00' },
    { start: '13:00', end: '17:00' },
  ],
  tuesday: [{ start: '09:00', end: '17:00' }],
  wednesday: [],
  thursday: [{ start: '12:00', end: '20:00' }],
  friday: [{ start: '09:00', end: '15:00' }],
  saturday: [{ start: '22:00', end: '24:00' }],
  sunday: [],
};
const exceptions = {
  closedDates: ['2025-04-18', '2025-04-17'],
  extraHours: [{ date: '2025-04-13', intervals: [{ start: '10:00', end: '14:00' }] }],
};
const create = (overrides: Record<string, unknown> = {}): CreateResource => ({
  type: 'CreateResource',
  data: {
    resourceId: 'res-anna',
    tenantId: 'acme',
    locationId: 'loc-oslo',
    name: 'Anna',
    kind: 'staff',
    weeklyHours: {
      // Given unordered and without the days off: both normalised.
      monday: [
        { start: '13:00', end: '17:00' },
        { start: '09:00', end: '12:00' },
      ],
      tuesday: [{ start: '09:00', end: '17:00' }],
      thursday: [{ start: '12:00', end: '20:00' }],
      friday: [{ start: '09:00', end: '15:00' }],
      saturday: [{ start: '22:00', end: '24:00' }],
    },
    exceptions,
    contact: { email: 'anna@salon.example', phone: '+4791234567' },
    now: NOW,
    actor: ACTOR,
    ...overrides,
  } as CreateResource['data'],
});
const created: ResourceEvent = {
  type: 'ResourceCreated',
  data: {
    resourceId: 'res-anna',
    tenantId: 'acme',
    locationId: 'loc-oslo',
    name: 'Anna',
    kind: 'staff',
    weeklyHours,
    exceptions: { closedDates: ['2025-04-17', '2025-04-18'], extraHours: exceptions.extraHours },
    contact: { email: 'anna@salon.example', phone: '+4791234567' },
    createdAt: NOW,
    actor: ACTOR,
  },
};
const archived: ResourceEvent = {
  type: 'ResourceArchived',
  data: { resourceId: 'res-anna', reason: '', archivedAt: NOW, actor: ACTOR },
};
const stamped = { resourceId: 'res-anna', now: NOW, actor: ACTOR };

describe('resource decider', () => {
  it('names streams resource-<tenant>+<id>', () => {
    expect(resourceStreamName('acme', 'res-anna')).toBe('resource-acme+res-anna');
  });

  describe('CreateResource', () => {
    it('creates a resource with normalised weekly hours, exceptions and staff contact', () => {
      spec.given([]).when(create()).then([created]);
    });

    it('defaults to no exceptions and no contact', () => {
      const { exceptions: _exceptions, contact: _contact, ...rest } = create().data;
      const state = spec
        .given([])
        .when({ type: 'CreateResource', data: rest })
        .then([
          {
            type: 'ResourceCreated',
            data: { ...created.data, exceptions: { closedDates: [], extraHours: [] }, contact: {} },
          } as ResourceEvent,
        ]);
      expect(state).toMatchObject({ status: 'active' });
    });

    it('refuses another resource under an existing id', () => {
      spec
        .given([created])
        .when(create({ name: 'Bo' }))
        .thenThrows(IllegalStateError, { code: 'resource-already-exists' });
    });

    it.each([
      ['weeklyHours.funday', { weeklyHours: { funday: [] } }, 'weekday'],
      ['weeklyHours.monday[0].start', { weeklyHours: { monday: [{ start: '9:00', end: '12:00' }] } }, 'local-time'],
      ['weeklyHours.monday[0].start', { weeklyHours: { monday: [{ start: '24:00', end: '24:00' }] } }, 'local-time'],
      ['weeklyHours.monday[0].end', { weeklyHours: { monday: [{ start: '09:00', end: '24:30' }] } }, 'local-time'],
      ['weeklyHours.monday[0]', { weeklyHours: { monday: [{ start: '12:00', end: '09:00' }] } }, 'start-before-end'],
      [
        'weeklyHours.monday',
        {
          weeklyHours: {
            monday: [
              { start: '09:00', end: '12:00' },
              { start: '11:00', end: '13:00' },
            ],
          },
        },
        'non-overlapping',
      ],
      ['weeklyHours.monday', { weeklyHours: { monday: 'all day' } }, 'array'],
      ['exceptions.closedDates[0]', { exceptions: { closedDates: ['2025-02-30'] } }, 'local-date'],
      [
        'exceptions.extraHours[1].date',
        {
          exceptions: {
            extraHours: [
              { date: '2025-04-13', intervals: [{ start: '10:00', end: '11:00' }] },
              { date: '2025-04-13', intervals: [{ start: '12:00', end: '13:00' }] },
            ],
          },
        },
        'unique-date',
      ],
      [
        'exceptions.extraHours[0].intervals',
        { exceptions: { extraHours: [{ date: '2025-04-13', intervals: [] }] } },
        'non-empty',
      ],
      ['kind', { kind: 'robot' }, 'one-of'],
      ['contact.email', { contact: { email: 'anna' } }, 'email'],
      ['contact.phone', { contact: { phone: '0047 912' } }, 'e164-phone'],
      ['name', { name: ' ' }, 'required'],
    ] as const)('rejects a bad %s', (field, overrides, rule) => {
      spec
        .given([])
        .when(create(overrides))
        .thenThrows(ValidationError, { code: 'invalid-input', details: { field, rule } });
    });
  });

  describe('UpdateResource', () => {
    it('records only the fields that changed', () => {
      spec
        .given([created])
        .when({
          type: 'UpdateResource',
          data: { ...stamped, name: 'Anna', kind: 'room', contact: { email: 'anna@salon.example' } },
        })
        .then([
          {
            type: 'ResourceUpdated',
            data: {
              resourceId: 'res-anna',
              changes: { kind: 'room', contact: { email: 'anna@salon.example' } },
              updatedAt: NOW,
              actor: ACTOR,
            },
          },
        ]);
    });

    it('is a no-op when nothing changes', () => {
      spec
        .given([created])
        .when({ type: 'UpdateResource', data: { ...stamped, name: 'Anna' } })
        .thenNothing();
    });

    it('refuses an archived resource and does not know a missing one', () => {
      const rename: ResourceCommand = { type: 'UpdateResource', data: { ...stamped, name: 'Bo' } };
      spec.given([created, archived]).when(rename).thenThrows(IllegalStateError, { code: 'resource-archived' });
      spec.given([]).when(rename).thenThrows(NotFoundError, { code: 'resource-not-found' });
    });
  });

  describe('ChangeResourceSchedule', () => {
    const change = (hours: Partial<WeeklyHours>, extra?: unknown): ResourceCommand => ({
      type: 'ChangeResourceSchedule',
      data: { ...stamped, weeklyHours: hours, ...(extra === undefined ? {} : { exceptions: extra as never }) },
    });

    it('replaces the whole schedule and carries it complete', () => {
      const state = spec
        .given([created])
        .when(change({ monday: [{ start: '08:00', end: '16:00' }] }, { closedDates: ['2025-05-17'] }))
        .then([
          {
            type: 'ResourceScheduleChanged',
            data: {
              resourceId: 'res-anna',
              weeklyHours: {
                monday: [{ start: '08:00', end: '16:00' }],
                tuesday: [],
                wednesday: [],
                thursday: [],
                friday: [],
                saturday: [],
                sunday: [],
              },
              exceptions: { closedDates: ['2025-05-17'], extraHours: [] },
              changedAt: NOW,
              actor: ACTOR,
            },
          },
        ]);
      expect(state).toMatchObject({ resource: { name: 'Anna', exceptions: { closedDates: ['2025-05-17'] } } });
    });

    it('is a no-op when the schedule is the same', () => {
      spec.given([created]).when(change(weeklyHours, exceptions)).thenNothing();
    });

    it('validates the schedule', () => {
      spec
        .given([created])
        .when(change({ monday: [{ start: '09:00', end: '09:00' }] }))
        .thenThrows(ValidationError, { details: { field: 'weeklyHours.monday[0]', rule: 'start-before-end' } });
    });

    it('refuses an archived resource', () => {
      spec
        .given([created, archived])
        .when(change(weeklyHours))
        .thenThrows(IllegalStateError, { code: 'resource-archived' });
    });
  });

  describe('ArchiveResource', () => {
    const archive: ResourceCommand = { type: 'ArchiveResource', data: stamped };

    it('archives, once', () => {
      spec.given([created]).when(archive).then([archived]);
      spec.given([created, archived]).when(archive).thenNothing();
    });

    it('does not know a resource that was never created', () => {
      spec.given([]).when(archive).thenThrows(NotFoundError);
    });
  });
});
