import type { MessageContext } from '../../../src/domain/notification/templates.js';

/** A context in which every kind can be rendered; tests override what they look at. */
export function messageContext(overrides: Partial<MessageContext> = {}): MessageContext {
  return {
    reservationId: 'R-2025-0042',
    customerName: 'Jana Novakova',
    serviceName: 'Back massage',
    serviceDescription: 'Please arrive ten minutes early.',
    locationName: 'Studio Vinohrady',
    locationAddress: 'Korunni 12, Praha',
    start: '2025-03-14T13:15:00Z',
    end: '2025-03-14T14:15:00Z',
    timeZone: 'Europe/Prague',
    locale: 'en',
    previousStart: '2025-03-13T08:00:00Z',
    amount: 1250,
    currency: 'CZK',
    afterPaymentText: 'Door code: 4711',
    footer: 'Studio Zen s.r.o., Korunni 12, Praha',
    senderName: 'Studio Zen',
    offer: { expiresAt: '2025-03-13T17:00:00Z' },
    minutesBefore: 180,
    cancelledBy: 'staff',
    alert: { message: 'The SMS could not be sent: out of credits.' },
    position: 3,
    claimUrl: 'https://book.example.test/claim/default/AQAAAAE',
    ...overrides,
  };
}
