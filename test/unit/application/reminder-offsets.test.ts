import { describe, expect, it } from 'vitest';
import { reminderOffsets } from '../../../src/application/notifications/notification-planner.js';
import { heraldDefaultSettings } from '../../../src/application/notifications/notification-settings.js';
import type { CustomMessageSetting, NotificationSettings } from '../../../src/domain/notification/index.js';

const custom = (id: string, minutesBefore?: number): CustomMessageSetting => ({
  id,
  kind: minutesBefore === undefined ? 'reservation-confirmed' : 'reservation-reminder',
  channel: 'sms',
  text: 'TURN ON THE SAUNA',
  to: { type: 'custom', address: '+4790012345' },
  ...(minutesBefore !== undefined ? { minutesBefore } : {}),
});

function settings(
  offsets: NotificationSettings['reminderOffsets'],
  customMessages: CustomMessageSetting[] = [],
): NotificationSettings {
  return { ...heraldDefaultSettings(), reminderOffsets: offsets, customMessages };
}

describe('reminderOffsets', () => {
  it('is the 24-hour email reminder for a tenant on the defaults', () => {
    expect(reminderOffsets(heraldDefaultSettings())).toEqual([1440]);
  });

  it('joins the offsets of both channels and of custom reminder messages, latest reminder first', () => {
    expect(reminderOffsets(settings({ email: [60, 1440], sms: [180] }, [custom('sauna', 30)]))).toEqual([
      1440, 180, 60, 30,
    ]);
  });

  it('lists an offset shared by channels and custom messages once', () => {
    expect(
      reminderOffsets(settings({ email: [1440, 60], sms: [60, 1440] }, [custom('sauna', 60), custom('lights', 60)])),
    ).toEqual([1440, 60]);
  });

  it('sorts numerically, not as text', () => {
    expect(reminderOffsets(settings({ email: [5, 1440], sms: [90] }))).toEqual([1440, 90, 5]);
  });

  it('ignores custom messages without an offset, and has none when nothing is set', () => {
    expect(reminderOffsets(settings({ email: [], sms: [] }, [custom('welcome')]))).toEqual([]);
    expect(reminderOffsets(settings({ email: [], sms: [] }, [custom('sauna', 60)]))).toEqual([60]);
  });
});
