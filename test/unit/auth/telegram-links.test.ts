import { describe, expect, it } from 'vitest';
import { createHmacCustomerLinks } from '../../../src/infrastructure/auth/hmac-customer-links.js';
import { createHmacTelegramLinks } from '../../../src/infrastructure/auth/hmac-telegram-links.js';

const SECRET = 'telegram-links-test-secret-0123456789abcdef';
const now = new Date('2030-06-01T10:00:00Z');
const hourLater = '2030-06-01T11:00:00Z';
const customer = { tenantId: 'default', customerId: '0f8fad5b-d9cb-469f-a165-70867728950e' };

describe('Telegram start parameters (the link on the customer’s page)', () => {
  const links = createHmacTelegramLinks(SECRET);

  it('fit Telegram’s start parameter: at most 64 of A-Z a-z 0-9 _ -', () => {
    for (const bot of ['tenant', 'environment'] as const) {
      const token = links.startTokenFor(customer, bot, hourLater);
      expect(token).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    }
    // A tenant's own bot leaves the tenant out of the token: any tenant id fits.
    expect(links.startTokenFor({ ...customer, tenantId: 't'.repeat(128) }, 'tenant', hourLater)).toBeDefined();
  });

  it('name the customer, and the tenant: from the token for the environment’s bot, from the URL for a tenant’s', () => {
    const shared = links.startTokenFor(customer, 'environment', hourLater)!;
    expect(links.verify(shared, now)).toEqual(customer);
    const own = links.startTokenFor(customer, 'tenant', hourLater)!;
    expect(links.verify(own, now, 'default')).toEqual(customer);
  });

  it('are refused for another tenant’s bot, the other bot kind, once run out, altered, or signed with another secret', () => {
    const own = links.startTokenFor(customer, 'tenant', hourLater)!;
    const shared = links.startTokenFor(customer, 'environment', hourLater)!;
    expect(links.verify(own, now, 'other-tenant')).toBeNull();
    expect(links.verify(own, now)).toBeNull();
    expect(links.verify(shared, now, 'default')).toBeNull();
    expect(links.verify(shared, new Date('2030-06-01T11:00:00Z'))).toBeNull();
    const flipped = shared.slice(0, 10) + (shared[10] === 'A' ? 'B' : 'A') + shared.slice(11);
    expect(links.verify(flipped, now)).toBeNull();
    expect(createHmacTelegramLinks(`${SECRET}-other`).verify(shared, now)).toBeNull();
    expect(links.verify('x'.repeat(65), now)).toBeNull();
  });

  it('are not made when the ids would not fit (the page then offers no link rather than a broken one)', () => {
    expect(
      links.startTokenFor(
        { tenantId: 'a-tenant-with-a-long-name', customerId: 'c'.repeat(40) },
        'environment',
        hourLater,
      ),
    ).toBeUndefined();
  });

  it('are signed for this purpose only: a customer-page token under the same secret is not a start parameter', () => {
    const page = createHmacCustomerLinks({ secret: SECRET, publicUrl: 'https://book.example' }).tokenFor(
      { kind: 'reservation', tenantId: 'default', reservationId: customer.customerId },
      hourLater,
    );
    expect(page.length).toBeLessThanOrEqual(64);
    expect(links.verify(page, now)).toBeNull();
    expect(links.verify(page, now, 'default')).toBeNull();
  });
});
