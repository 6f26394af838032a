import {
  customerPreferencesDecider,
  customerPreferencesOf,
  defaultNotificationSettings,
  notificationSettingsDecider,
  withEveryKind,
  type CustomerPreferences,
  type NotificationSettings,
} from '../../domain/notification/index.js';
import type { Customer } from '../../domain/booking/reservation.decider.js';
import { tenantDecider, tenantStreamName } from '../../domain/tenancy/tenant.decider.js';
import { loadAggregate } from '../command-handler.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { IdSource } from '../ports/id-source.port.js';
import { customerPreferencesStreamName, notificationSettingsStreamName } from './notification-streams.js';

/**
 * Herald's defaults for a tenant that never changed its settings: confirmations by email and SMS (the seed
 * requirement), cancellations, reschedules and declines by email and SMS, payments by email, a reminder 24 hours
 * before by email. Prices are zero: a self-hosted Herald meters nothing until an admin sets a price list.
 */
export function heraldDefaultSettings(): NotificationSettings {
  const base = defaultNotificationSettings({ name: 'Herald', address: 'no-reply@herald.invalid' });
  const smsOn = new Set([
    'reservation-confirmed',
    'reservation-cancelled',
    'reservation-rescheduled',
    'reservation-declined',
    'waitlist-offer',
    'waitlist-seat-assigned',
    'waitlist-joined',
    'waitlist-offer-expired',
  ]);
  return {
    ...base,
    kinds: Object.fromEntries(
      Object.entries(base.kinds).map(([kind, settings]) => [
        kind,
        { ...settings, sms: smsOn.has(kind) ? true : settings.sms },
      ]),
    ) as NotificationSettings['kinds'],
    prices: { smsPerPart: 0, emailManual: 0, emailAutomatic: 0 },
  };
}

/**
 * The defaults of one tenant: Herald's, with the sender and default locale its operator gave it at creation
 * (TenantCreated). They are in force until the tenant's first NotificationSettingsChanged.
 */
export async function tenantDefaultSettings(eventStore: EventStore, tenantId: string): Promise<NotificationSettings> {
  const defaults = heraldDefaultSettings();
  const { state } = await loadAggregate(eventStore, tenantStreamName(tenantId), tenantDecider);
  if (state.status === 'none') return defaults;
  return { ...defaults, sender: { ...state.tenant.sender }, defaultLocale: state.tenant.defaultLocale };
}

export async function loadNotificationSettings(
  eventStore: EventStore,
  tenantId: string,
): Promise<NotificationSettings> {
  const { state } = await loadAggregate(
    eventStore,
    notificationSettingsStreamName(tenantId),
    notificationSettingsDecider,
  );
  return state.status === 'configured' ? withEveryKind(state.settings) : tenantDefaultSettings(eventStore, tenantId);
}

/** The id preferences are kept under: the booking system's customer id, else one derived from email or phone. */
export function customerRefOf(
  ids: IdSource,
  tenantId: string,
  customer: Pick<Customer, 'id' | 'email' | 'phone'>,
): string | undefined {
  if (customer.id) return customer.id;
  if (customer.email) return ids.derive('customer', tenantId, `email:${customer.email.trim().toLowerCase()}`);
  if (customer.phone) return ids.derive('customer', tenantId, `phone:${customer.phone}`);
  return undefined;
}

export async function loadCustomerPreferences(
  eventStore: EventStore,
  tenantId: string,
  customerRef: string | undefined,
): Promise<CustomerPreferences> {
  if (!customerRef) return customerPreferencesOf(customerPreferencesDecider.initialState());
  const { state } = await loadAggregate(
    eventStore,
    customerPreferencesStreamName(tenantId, customerRef),
    customerPreferencesDecider,
  );
  return customerPreferencesOf(state);
}
