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

describe('bulk prices and batch charges', () => {
  it('prices a bulk email at emailBulk, or at the hand-sent price when the list has none; SMS per part as always', () => {
    const prices = { smsPerPart: 2, emailManual: 3, emailAutomatic: 0 };
    expect(priceOf(prices, { channel: 'email', mode: 'bulk' })).toBe(3);
    expect(priceOf({ ...prices, emailBulk: 1 }, { channel: 'email', mode: 'bulk' })).toBe(1);
    expect(priceOf(prices, { channel: 'sms', mode: 'bulk', smsParts: 2 })).toBe(4);
    expect(() => validatePriceList({ ...prices, emailBulk: -1 })).toThrow(ValidationError);
  });

  it('charges in order each delivery the balance covers, once; the rest stay uncharged', () => {
    const events = creditAccountDecider.decide(
      {
        type: 'ChargeCreditsInOrder',
        data: {
          charges: [
            { deliveryId: 'a', amount: 4 },
            { deliveryId: 'b', amount: 8 },
            { deliveryId: 'c', amount: 5 },
            { deliveryId: 'a', amount: 4 },
            { deliveryId: 'd', amount: 0 },
          ],
          at,
        },
      },
      fold(creditAccountDecider, [toppedUp]),
    );
    expect(
      events.map((e) => [
        e.type,
        (e.data as { deliveryId?: string }).deliveryId,
        (e.data as { balanceAfter?: number }).balanceAfter,
      ]),
    ).toEqual([
      ['CreditsCharged', 'a', 6],
      ['CreditsCharged', 'c', 1],
    ]);
    const after = fold(creditAccountDecider, [toppedUp, ...events]);
    expect(
      creditAccountDecider.decide(
        { type: 'ChargeCreditsInOrder', data: { charges: [{ deliveryId: 'a', amount: 4 }], at } },
        after,
      ),
    ).toEqual([]);
    expect(() =>
      creditAccountDecider.decide(
        { type: 'ChargeCreditsInOrder', data: { charges: [{ deliveryId: 'a', amount: 5 }], at } },
        after,
      ),
    ).toThrow(IllegalStateError);
  });
});

describe('low-balance threshold', () => {
  const threshold = (value: number | null): CreditEvent => ({
    type: 'CreditsLowBalanceThresholdSet',
    data: { threshold: value, at, by: 'admin-1' },
  });
  const charge = (deliveryId: string, amount: number) => ({
    type: 'ChargeCredits' as const,
    data: { deliveryId, amount, at },
  });
  const low = (balance: number, at_ = at): CreditEvent => ({
    type: 'CreditsBalanceLow',
    data: { balance, threshold: 5, at: at_ },
  });

  it('alerts once when a charge takes the balance below it, in the same append', () => {
    spec
      .given([toppedUp, threshold(5)])
      .when(charge('d-1', 6))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-1', amount: 6, balanceAfter: 4, at } }, low(4)]);
    spec
      .given([toppedUp, threshold(5), charged])
      .when(charge('d-2', 3))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-2', amount: 3, balanceAfter: 4, at } }, low(4)]);
  });

  it('does not alert again below the threshold, until a top-up brings the balance back to it or above', () => {
    const below: CreditEvent[] = [
      toppedUp,
      threshold(5),
      { type: 'CreditsCharged', data: { deliveryId: 'd-1', amount: 6, balanceAfter: 4, at } },
      low(4),
    ];
    spec
      .given(below)
      .when(charge('d-2', 1))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-2', amount: 1, balanceAfter: 3, at } }]);
    // A top-up that stays below keeps it disarmed; one to the threshold or above re-arms it.
    const smallTopUp: CreditEvent = {
      type: 'CreditsToppedUp',
      data: { topUpId: 't-2', amount: 1, balanceAfter: 5 - 1, at, by: 'a' },
    };
    spec
      .given([...below, smallTopUp])
      .when(charge('d-3', 1))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-3', amount: 1, balanceAfter: 3, at } }]);
    const bigTopUp: CreditEvent = {
      type: 'CreditsToppedUp',
      data: { topUpId: 't-3', amount: 10, balanceAfter: 14, at, by: 'a' },
    };
    spec
      .given([...below, bigTopUp])
      .when(charge('d-4', 10))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-4', amount: 10, balanceAfter: 4, at } }, low(4)]);
  });

  it('a threshold set above the balance alerts at once; null switches alerts off', () => {
    spec
      .given([toppedUp, charged])
      .when({ type: 'SetLowBalanceThreshold', data: { threshold: 20, at, by: 'admin-1' } })
      .then([threshold(20), { type: 'CreditsBalanceLow', data: { balance: 7, threshold: 20, at } }]);
    spec
      .given([toppedUp, threshold(5)])
      .when({ type: 'SetLowBalanceThreshold', data: { threshold: null, at, by: 'admin-1' } })
      .then([threshold(null)]);
    spec
      .given([toppedUp, threshold(null)])
      .when(charge('d-9', 9))
      .then([{ type: 'CreditsCharged', data: { deliveryId: 'd-9', amount: 9, balanceAfter: 1, at } }]);
  });
});
