import type { Language } from './format.js';

/** The names of message kinds and channels as customers and staff read them. */
export const KIND_NAMES: Record<Language, Record<string, string>> = {
  en: {
    'reservation-confirmed': 'Booking confirmations',
    'reservation-cancelled': 'Cancellations',
    'reservation-declined': 'Declined requests',
    'reservation-rescheduled': 'Changes of time',
    'payment-received': 'Payment receipts',
    'reservation-reminder': 'Reminders',
    'waitlist-offer': 'Waitlist offers',
    'waitlist-seat-assigned': 'Waitlist places given',
    'waitlist-joined': 'Waitlist confirmations',
    'waitlist-offer-expired': 'Expired offers',
    'custom-message': 'Other messages',
    'manual-message': 'Messages from staff',
    'bulk-message': 'Announcements',
    'staff-alert': 'Staff alerts',
  },
  cs: {
    'reservation-confirmed': 'Potvrzení rezervace',
    'reservation-cancelled': 'Zrušení',
    'reservation-declined': 'Odmítnuté žádosti',
    'reservation-rescheduled': 'Změny termínu',
    'payment-received': 'Potvrzení platby',
    'reservation-reminder': 'Připomínky',
    'waitlist-offer': 'Nabídky z pořadníku',
    'waitlist-seat-assigned': 'Přidělená místa z pořadníku',
    'waitlist-joined': 'Zařazení do pořadníku',
    'waitlist-offer-expired': 'Propadlé nabídky',
    'custom-message': 'Ostatní zprávy',
    'manual-message': 'Zprávy od personálu',
    'bulk-message': 'Oznámení',
    'staff-alert': 'Upozornění pro personál',
  },
  nb: {
    'reservation-confirmed': 'Bekreftelser',
    'reservation-cancelled': 'Avbestillinger',
    'reservation-declined': 'Avslåtte forespørsler',
    'reservation-rescheduled': 'Endret tidspunkt',
    'payment-received': 'Betalingskvitteringer',
    'reservation-reminder': 'Påminnelser',
    'waitlist-offer': 'Tilbud fra ventelisten',
    'waitlist-seat-assigned': 'Tildelte plasser',
    'waitlist-joined': 'Venteliste-bekreftelser',
    'waitlist-offer-expired': 'Utløpte tilbud',
    'custom-message': 'Andre meldinger',
    'manual-message': 'Meldinger fra de ansatte',
    'bulk-message': 'Kunngjøringer',
    'staff-alert': 'Varsler til ansatte',
  },
};

type ChannelName =
  'email' | 'sms' | 'whatsapp' | 'telegram' | 'staff-chat' | 'crm' | 'push' | 'realtime' | 'calendar' | 'meeting';

export const CHANNEL_NAMES: Record<Language, Record<ChannelName, string>> = {
  en: {
    email: 'Email',
    sms: 'SMS',
    whatsapp: 'WhatsApp',
    telegram: 'Telegram',
    'staff-chat': 'Staff chat',
    crm: 'CRM',
    push: 'Push notification',
    realtime: 'Realtime',
    calendar: 'Calendar invitation',
    meeting: 'Online meeting',
  },
  cs: {
    email: 'E-mail',
    sms: 'SMS',
    whatsapp: 'WhatsApp',
    telegram: 'Telegram',
    'staff-chat': 'Chat personálu',
    crm: 'CRM',
    push: 'Push notifikace',
    realtime: 'Realtime',
    calendar: 'Pozvánka do kalendáře',
    meeting: 'Online schůzka',
  },
  nb: {
    email: 'E-post',
    sms: 'SMS',
    whatsapp: 'WhatsApp',
    telegram: 'Telegram',
    'staff-chat': 'Ansattchat',
    crm: 'CRM',
    push: 'Push-varsel',
    realtime: 'Sanntid',
    calendar: 'Kalenderinvitasjon',
    meeting: 'Nettmøte',
  },
};

export function kindName(language: Language, kind: string): string {
  return KIND_NAMES[language][kind] ?? kind;
}
