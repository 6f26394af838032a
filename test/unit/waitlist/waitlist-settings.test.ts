import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import {
  allocationDeadline,
  DEFAULT_WAITLIST_SETTINGS,
  policyFor,
  validateWaitlistSettings,
  waitlistSettingsDecider,
  type WaitlistSettings,
} from '../../../src/domain/waitlist/waitlist-settings.js';
import { deciderSpec } from '../support/decider-spec.js';
import { END, NOW, START } from './fixtures.js';

const tenant = {
  enabled: true,
  mode: 'offer',
  responseWindowSeconds: 900,
  maxEntries: 50,
  cutoffMinutes: 30,
} as const;

function refused(raw: unknown): ValidationError {
  try {
    validateWaitlistSettings(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  return expect.fail(`accepted ${JSON.stringify(raw)}`);
}

describe('waitlist settings', () => {
  it('a whole document is required at tenant level; services default to none', () => {
    expect(validateWaitlistSettings(tenant)).toEqual({ ...tenant, services: {} });
    for (const field of Object.keys(tenant)) {
      const { [field]: _omitted, ...rest } = tenant as Record<string, unknown>;
      expect(refused(rest).details).toMatchObject({ field, rule: 'required' });
    }
    expect(refused(null).details).toMatchObject({ field: 'settings' });
  });

  it('each field has its range: mode, window (1 s to 7 days), cap, cut-off (a day after the start to 30 days before)', () => {
    expect(refused({ ...tenant, mode: 'lottery' }).details).toMatchObject({ field: 'mode' });
    expect(refused({ ...tenant, enabled: 'yes' }).details).toMatchObject({ field: 'enabled' });
    expect(refused({ ...tenant, responseWindowSeconds: 0 }).details).toMatchObject({ field: 'responseWindowSeconds' });
    expect(refused({ ...tenant, responseWindowSeconds: 7 * 24 * 3600 + 1 }).details).toMatchObject({
      field: 'responseWindowSeconds',
    });
    expect(refused({ ...tenant, responseWindowSeconds: 1.5 }).details).toMatchObject({
      field: 'responseWindowSeconds',
    });
    expect(refused({ ...tenant, maxEntries: 0 }).details).toMatchObject({ field: 'maxEntries' });
    expect(refused({ ...tenant, cutoffMinutes: -24 * 60 - 1 }).details).toMatchObject({ field: 'cutoffMinutes' });
    expect(refused({ ...tenant, cutoffMinutes: 30 * 24 * 60 + 1 }).details).toMatchObject({ field: 'cutoffMinutes' });
    expect(validateWaitlistSettings({ ...tenant, cutoffMinutes: -24 * 60 }).cutoffMinutes).toBe(-24 * 60);
    expect(validateWaitlistSettings({ ...tenant, responseWindowSeconds: 1 }).responseWindowSeconds).toBe(1);
  });

  it('per-service overrides are partial, validated with their path, and empty ones are dropped', () => {
    const settings = validateWaitlistSettings({
      ...tenant,
      services: { swim: { mode: 'assign', cutoffMinutes: -60 }, sauna: {} },
    });
    expect(settings.services).toEqual({ swim: { mode: 'assign', cutoffMinutes: -60 } });
    expect(refused({ ...tenant, services: { swim: { maxEntries: -1 } } }).details).toMatchObject({
      field: 'services.swim.maxEntries',
    });
    expect(refused({ ...tenant, services: { swim: 3 } }).details).toMatchObject({ field: 'services.swim' });
    expect(refused({ ...tenant, services: [] }).details).toMatchObject({ field: 'services' });
  });

  it('the policy of a service is the tenant’s with the service’s fields on top', () => {
    const settings: WaitlistSettings = {
      ...tenant,
      services: { swim: { mode: 'assign', responseWindowSeconds: 60 } },
    };
    expect(policyFor(settings, 'swim')).toEqual({ ...tenant, mode: 'assign', responseWindowSeconds: 60 });
    expect(policyFor(settings, 'sauna')).toEqual(tenant);
    // Names of Object.prototype members are services like any other, never inherited values.
    expect(policyFor(settings, 'toString')).toEqual(tenant);
  });

  it('the allocation deadline is the start minus the cut-off; a negative cut-off runs into the slot, never past its end', () => {
    const slot = { start: START, end: END };
    expect(allocationDeadline({ cutoffMinutes: 0 }, slot)).toBe(START);
    expect(allocationDeadline({ cutoffMinutes: 30 }, slot)).toBe('2030-06-03T07:30:00.000Z');
    expect(allocationDeadline({ cutoffMinutes: -20 }, slot)).toBe('2030-06-03T08:20:00.000Z');
    // The slot is 60 minutes long: 90 minutes after the start is capped at its end.
    expect(allocationDeadline({ cutoffMinutes: -90 }, slot)).toBe(END);
  });

  it('the settings aggregate records a change with what was in force before; the same settings again change nothing', () => {
    const spec = deciderSpec(waitlistSettingsDecider);
    const change = (settings: unknown) => ({
      type: 'ChangeWaitlistSettings' as const,
      data: { tenantId: 'acme', settings: settings as WaitlistSettings, now: NOW, actor: 'apikey:k1' },
    });
    const off = { ...DEFAULT_WAITLIST_SETTINGS, enabled: false };
    const after = spec
      .given([])
      .when(change(off))
      .then([
        {
          type: 'WaitlistSettingsChanged',
          data: {
            tenantId: 'acme',
            settings: off,
            previous: DEFAULT_WAITLIST_SETTINGS,
            changedAt: NOW,
            actor: 'apikey:k1',
          },
        },
      ]);
    expect(after).toEqual({ status: 'configured', settings: off, changedAt: NOW });
    // The defaults, sent as the first configuration: nothing changes.
    spec.given([]).when(change(DEFAULT_WAITLIST_SETTINGS)).thenNothing();
    // Key order does not make a change.
    const reordered = Object.fromEntries(Object.entries(off).reverse());
    expect(waitlistSettingsDecider.decide(change(reordered), after)).toEqual([]);
    expect(() => waitlistSettingsDecider.decide(change({ ...off, mode: 'x' }), after)).toThrow(ValidationError);
  });
});
