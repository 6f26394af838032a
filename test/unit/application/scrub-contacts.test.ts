import { describe, expect, it } from 'vitest';
import { scrubContacts } from '../../../src/application/notifications/notification-dispatcher.js';

describe('provider errors recorded in the audit trail', () => {
  it('mask the email address an SMTP server quotes', () => {
    const scrubbed = scrubContacts('550: 550 5.1.1 <ada.lovelace@example.com>: Recipient address rejected');
    expect(scrubbed).not.toContain('ada.lovelace@example.com');
    expect(scrubbed).toContain('a***@example.com');
    expect(scrubbed).toContain('Recipient address rejected');
  });

  it('mask the number Twilio quotes', () => {
    const scrubbed = scrubContacts("21211: The 'To' number +420777123456 is not a valid phone number.");
    expect(scrubbed).not.toContain('+420777123456');
    expect(scrubbed).toMatch(/\+42077\*+56/);
  });

  it('leave other text alone', () => {
    expect(scrubContacts('503: connection refused')).toBe('503: connection refused');
  });
});
