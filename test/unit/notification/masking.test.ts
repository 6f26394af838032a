import { describe, expect, it } from 'vitest';
import { maskAddress, maskEmail, maskPhone } from '../../../src/domain/notification/masking.js';

describe('masking for the audit trail', () => {
  it.each([
    ['jana.novakova@example.com', 'j***@example.com'],
    ['J@Example.CZ', 'J***@example.cz'],
    ['  ola.nordmann@firma.no ', 'o***@firma.no'],
    ['not-an-address', 'n***'],
    ['', '***'],
  ])('masks the email %j as %j', (input, masked) => {
    expect(maskEmail(input)).toBe(masked);
  });

  it.each([
    ['+420771234589', '+42077****89'],
    ['+420 777 123 489', '+42077****89'],
    ['+4791234567', '+47912****67'],
    ['12345678', '12****78'],
    ['+1234', '+****'],
  ])('masks the phone %j as %j', (input, masked) => {
    expect(maskPhone(input)).toBe(masked);
  });

  it('never shows the full local part or the middle digits', () => {
    expect(maskAddress('email', 'secret.person@example.com')).not.toContain('secret');
    expect(maskAddress('sms', '+420771234589')).not.toContain('1234');
  });
});
