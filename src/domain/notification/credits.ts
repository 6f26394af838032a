import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { IllegalStateError, ValidationError } from '../shared/errors.js';
import type { Channel } from './kinds.js';
import { parseInstant, requireNonNegativeInteger, requirePositiveInteger, requireText } from './validation.js';

/**
 * Credits: a per-tenant balance in whole credits, charged per send and refunded when a send fails. Whole numbers
 * keep the balance exact; a tenant that wants "half a credit per email" has a price list scaled by two.
 */

export interface PriceList {
  /** Per SMS part, so a 3-part message costs three times as much as a 1-part one. */
  readonly smsPerPart: number;
  /** Per email typed and sent by staff. */
  readonly emailManual: number;
  /** Per automatic email (confirmations, reminders...). */
  readonly emailAutomatic: number;
}

export const DEFAULT_PRICE_LIST: PriceList = { smsPerPart: 1, emailManual: 1, emailAutomatic: 0 };

export type SendMode = 'automatic' | 'manual';

export function validatePriceList(prices: PriceList): PriceList {
  for (const field of ['smsPerPart', 'emailManual', 'emailAutomatic'] as const) {
    const value: unknown = prices[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ValidationError(
        'invalid-price',
        `The price ${field} must be a whole number of credits, zero or more.`,
        {
          field: `prices.${field}`,
        },
      );
    }
  }
  return prices;
}

/** What one send costs. `smsParts` comes from `analyzeSms`. */
export function priceOf(
  prices: PriceList,
  send: { readonly channel: Channel; readonly mode: SendMode; readonly smsParts?: number },
): number {
  if (send.channel === 'sms') return prices.smsPerPart * requirePositiveInteger(send.smsParts, 'smsParts');
  return send.mode === 'manual' ? prices.emailManual : prices.emailAutomatic;
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Charges are idempotent per `deliveryId`. A staff re-send of a delivery is a new charge and so needs its own key,
 * e.g. `<deliveryId>#<round>`.
 */
export type ChargeCredits = Command<
  'ChargeCredits',
  { readonly deliveryId: string; readonly amount: number; readonly at: string }
>;
export type RefundCredits = Command<
  'RefundCredits',
  { readonly deliveryId: string; readonly at: string; readonly reason?: string }
>;
export type TopUpCredits = Command<
  'TopUpCredits',
  { readonly topUpId: string; readonly amount: number; readonly at: string; readonly by: string }
>;
export type CreditCommand = ChargeCredits | RefundCredits | TopUpCredits;

export type CreditsCharged = DomainEvent<
  'CreditsCharged',
  { readonly deliveryId: string; readonly amount: number; readonly balanceAfter: number; readonly at: string }
>;
export type CreditsRefunded = DomainEvent<
  'CreditsRefunded',
  {
    readonly deliveryId: string;
    readonly amount: number;
    readonly balanceAfter: number;
    readonly at: string;
    readonly reason?: string;
  }
>;
export type CreditsToppedUp = DomainEvent<
  'CreditsToppedUp',
  {
    readonly topUpId: string;
    readonly amount: number;
    readonly balanceAfter: number;
    readonly at: string;
    readonly by: string;
  }
>;
export type CreditEvent = CreditsCharged | CreditsRefunded | CreditsToppedUp;

export interface Charge {
  readonly amount: number;
  readonly refunded: boolean;
}

export type CreditAccountState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open';
      readonly balance: number;
      readonly charges: Readonly<Record<string, Charge>>;
      readonly topUps: Readonly<Record<string, number>>;
    };

export function initialCreditAccountState(): CreditAccountState {
  return { status: 'none' };
}

function openOf(state: CreditAccountState): Extract<CreditAccountState, { status: 'open' }> {
  return state.status === 'open' ? state : { status: 'open', balance: 0, charges: {}, topUps: {} };
}

export function decideCredits(command: CreditCommand, state: CreditAccountState): CreditEvent[] {
  const account = openOf(state);
  switch (command.type) {
    case 'ChargeCredits': {
      const { deliveryId, amount, at } = command.data;
      requireText(deliveryId, 'deliveryId');
      requireNonNegativeInteger(amount, 'amount');
      parseInstant(at, 'at');
      const existing = Object.hasOwn(account.charges, deliveryId) ? account.charges[deliveryId] : undefined;
      if (existing !== undefined) {
        if (existing.amount !== amount) {
          throw new IllegalStateError(
            'charge-mismatch',
            `Delivery ${deliveryId} was already charged ${existing.amount}.`,
            {
              deliveryId,
              charged: existing.amount,
            },
          );
        }
        return [];
      }
      if (amount === 0) return [];
      if (account.balance < amount) {
        throw new IllegalStateError('insufficient-credits', `${amount} credits needed, ${account.balance} available.`, {
          balance: account.balance,
          required: amount,
        });
      }
      return [{ type: 'CreditsCharged', data: { deliveryId, amount, balanceAfter: account.balance - amount, at } }];
    }
    case 'RefundCredits': {
      const { deliveryId, at, reason } = command.data;
      requireText(deliveryId, 'deliveryId');
      parseInstant(at, 'at');
      const charge = Object.hasOwn(account.charges, deliveryId) ? account.charges[deliveryId] : undefined;
      if (charge === undefined) {
        throw new IllegalStateError('not-charged', `Delivery ${deliveryId} was never charged.`, { deliveryId });
      }
      if (charge.refunded) return [];
      return [
        {
          type: 'CreditsRefunded',
          data: {
            deliveryId,
            amount: charge.amount,
            balanceAfter: account.balance + charge.amount,
            at,
            ...(reason !== undefined ? { reason } : {}),
          },
        },
      ];
    }
    case 'TopUpCredits': {
      const { topUpId, amount, at, by } = command.data;
      requireText(topUpId, 'topUpId');
      requireText(by, 'by');
      requirePositiveInteger(amount, 'amount');
      parseInstant(at, 'at');
      if (Object.hasOwn(account.topUps, topUpId)) return [];
      return [{ type: 'CreditsToppedUp', data: { topUpId, amount, balanceAfter: account.balance + amount, at, by } }];
    }
  }
}

export function evolveCredits(state: CreditAccountState, event: CreditEvent): CreditAccountState {
  const account = openOf(state);
  switch (event.type) {
    case 'CreditsCharged':
      return {
        ...account,
        balance: event.data.balanceAfter,
        charges: { ...account.charges, [event.data.deliveryId]: { amount: event.data.amount, refunded: false } },
      };
    case 'CreditsRefunded': {
      const known = Object.hasOwn(account.charges, event.data.deliveryId)
        ? account.charges[event.data.deliveryId]
        : undefined;
      const charge = known ?? { amount: event.data.amount, refunded: false };
      return {
        ...account,
        balance: event.data.balanceAfter,
        charges: { ...account.charges, [event.data.deliveryId]: { ...charge, refunded: true } },
      };
    }
    case 'CreditsToppedUp':
      return {
        ...account,
        balance: event.data.balanceAfter,
        topUps: { ...account.topUps, [event.data.topUpId]: event.data.amount },
      };
  }
}

export const creditAccountDecider: Decider<CreditCommand, CreditAccountState, CreditEvent> = {
  decide: decideCredits,
  evolve: evolveCredits,
  initialState: initialCreditAccountState,
};
