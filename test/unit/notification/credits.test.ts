import { describe, expect, it } from 'vitest';
import type { CreditEvent } from '../../../src/domain/notification/credits.js';
import {
  creditAccountDecider,
  DEFAULT_PRICE_LIST,
  priceOf,
  validatePriceList,
} from '../../../src/domain/notification/credits.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { IllegalStateError, ValidationError } from '../../../src/domain/shared/errors.js';
import { specFor } from './spec.js';

const spec = specFor(creditAccountDecider);
const at = '2025-03-01T10:00:00.000Z';
const toppedUp: CreditEvent = {
  type: 'CreditsToppedUp',
  data: { topUpId: 'top-1', amount: 10, balanceAfter: 10, at, by: 'admin-1' },
};
const charged: CreditEvent = { type: 'CreditsCharged', data: { deliveryId: 'd-1', amount: 3, balanceAfter: 7, at } };

describe('price list', () => {
  it('charges SMS per part and automatic email nothing by default', () => {
    expect(priceOf(DEFAULT_PRICE_LIST, { channel: 'sms', mode: 'automatic', smsParts: 3 })).toBe(3);
    expect(priceOf(DEFAULT_PRICE_LIST, { channel: 'email', mode: 'automatic' })).toBe(0);
    expect(priceOf(DEFAULT_PRICE_LIST, { channel: 'email', mode: 'manual' })).toBe(1);
    expect(
      priceOf({ smsPerPart: 2, emailManual: 1, emailAutomatic: 0 }, { channel: 'sms', mode: 'manual', smsParts: 2 }),
    ).toBe(4);
  });

  it('refuses prices below zero or fractional', () => {
    expect(() => validatePriceList({ smsPerPart: -1, emailManual: 0, emailAutomatic: 0 })).toThrow(ValidationError);
    expect(() => validatePriceList({ smsPerPart: 1, emailManual: 0.5, emailAutomatic: 0 })).toThrow(ValidationError);
    expect(validatePriceList(DEFAULT_PRICE_LIST)).toEqual(DEFAULT_PRICE_LIST);
  });

  it('needs the number of SMS parts', () => {
    expect(() => priceOf(DEFAULT_PRICE_LIST, { channel: 'sms', mode: 'automatic' })).toThrow(ValidationError);
  });
});

describe('credit account', () => {
  it('tops up once per top-up id', () => {
    spec
      .given([])
      .when({ type: 'TopUpCredits', data: { topUpId: 'top-1', amount: 10, at, by: 'admin-1' } })
      .then([toppedUp]);
    spec
      .given([toppedUp])
      .when({ type: 'TopUpCredits', data: { topUpId: 'top-1', amount: 10, at, by: 'admin-1' } })
      .thenNothing();
    spec
      .given([])
      .when({ type: 'TopUpCredits', data: { topUpId: 'top-2', amount: 0, at, by: 'admin-1' } })
      .thenThrows(ValidationError);
  });

  it('charges a delivery once', () => {
    spec
      .given([toppedUp])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-1', amount: 3, at } })
      .then([charged]);
    spec
      .given([toppedUp, charged])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-1', amount: 3, at } })
      .thenNothing();
  });

  it('refuses a second charge of the same delivery with another amount', () => {
    spec
      .given([toppedUp, charged])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-1', amount: 4, at } })
      .thenThrows(IllegalStateError, 'charge-mismatch');
  });

  it('refuses a charge above the balance with insufficient-credits, and records nothing', () => {
    const error = spec
      .given([toppedUp, charged])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-2', amount: 8, at } })
      .thenThrows(IllegalStateError, 'insufficient-credits');
    expect(error.details).toEqual({ balance: 7, required: 8 });
    spec
      .given([])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-2', amount: 1, at } })
      .thenThrows(IllegalStateError, 'insufficient-credits');
  });

  it('lets a free send through without a charge', () => {
    spec
      .given([])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-3', amount: 0, at } })
      .thenNothing();
  });

  it('refunds a charged delivery once', () => {
    const refunded: CreditEvent = {
      type: 'CreditsRefunded',
      data: { deliveryId: 'd-1', amount: 3, balanceAfter: 10, at, reason: 'failed' },
    };
    spec
      .given([toppedUp, charged])
      .when({ type: 'RefundCredits', data: { deliveryId: 'd-1', at, reason: 'failed' } })
      .then([refunded]);
    spec
      .given([toppedUp, charged, refunded])
      .when({ type: 'RefundCredits', data: { deliveryId: 'd-1', at } })
      .thenNothing();
    // A refunded delivery is not charged again under the same key.
    spec
      .given([toppedUp, charged, refunded])
      .when({ type: 'ChargeCredits', data: { deliveryId: 'd-1', amount: 3, at } })
      .thenNothing();
  });

  it('refuses to refund what was never charged', () => {
    spec
      .given([toppedUp])
      .when({ type: 'RefundCredits', data: { deliveryId: 'd-9', at } })
      .thenThrows(IllegalStateError, 'not-charged');
    spec
      .given([toppedUp])
      .when({ type: 'RefundCredits', data: { deliveryId: 'toString', at } })
      .thenThrows(IllegalStateError, 'not-charged');
  });

  it('keeps the balance in step with the events', () => {
    const state = fold(creditAccountDecider, [toppedUp, charged]);
    expect(state).toMatchObject({ status: 'open', balance: 7 });
  });
});
