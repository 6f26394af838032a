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
  /** Per email of a bulk message (campaign). Absent: the hand-sent price (`emailManual`). */
  readonly emailBulk?: number;
}

export const DEFAULT_PRICE_LIST: PriceList = { smsPerPart: 1, emailManual: 1, emailAutomatic: 0 };

/** `manual`: a message staff wrote to one recipient; `bulk`: one recipient of a campaign. */
export type SendMode = 'automatic' | 'manual' | 'bulk';

export function validatePriceList(prices: PriceList): PriceList {
  for (const field of ['smsPerPart', 'emailManual', 'emailAutomatic', 'emailBulk'] as const) {
    if (field === 'emailBulk' && prices.emailBulk === undefined) continue;
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
  if (send.mode === 'bulk') return prices.emailBulk ?? prices.emailManual;
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
/**
 * Charges several deliveries in one append (a batch of a campaign): each in order that the balance covers; one it
 * does not cover is left uncharged (the caller records it as skipped for insufficient credits). Idempotent per
 * delivery id like ChargeCredits.
 */
export type ChargeCreditsInOrder = Command<
  'ChargeCreditsInOrder',
  { readonly charges: readonly { readonly deliveryId: string; readonly amount: number }[]; readonly at: string }
>;
/** Admins are alerted once when the balance falls below the threshold (null: never). */
export type SetLowBalanceThreshold = Command<
  'SetLowBalanceThreshold',
  { readonly threshold: number | null; readonly at: string; readonly by: string }
>;
export type CreditCommand =
  ChargeCredits | RefundCredits | TopUpCredits | ChargeCreditsInOrder | SetLowBalanceThreshold;

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
export type CreditsLowBalanceThresholdSet = DomainEvent<
  'CreditsLowBalanceThresholdSet',
  { readonly threshold: number | null; readonly at: string; readonly by: string }
>;
/**
 * The balance fell below the tenant's threshold: once per crossing (the next one only after a top-up brought the
 * balance back to the threshold or above). Admins get a staff alert.
 */
export type CreditsBalanceLow = DomainEvent<
  'CreditsBalanceLow',
  { readonly balance: number; readonly threshold: number; readonly at: string }
>;
export type CreditEvent =
  CreditsCharged | CreditsRefunded | CreditsToppedUp | CreditsLowBalanceThresholdSet | CreditsBalanceLow;

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
      /** Absent or null: no low-balance alerts. */
      readonly lowBalanceThreshold?: number | null;
      /** The alert of the current crossing went out; a top-up to the threshold or above re-arms it. */
      readonly lowBalanceAlerted?: boolean;
    };

export function initialCreditAccountState(): CreditAccountState {
  return { status: 'none' };
}

function openOf(state: CreditAccountState): Extract<CreditAccountState, { status: 'open' }> {
  return state.status === 'open' ? state : { status: 'open', balance: 0, charges: {}, topUps: {} };
}

/** The low-balance alert a balance calls for, after the events decided so far (at most one per crossing). */
function lowBalanceAfter(
  account: Extract<CreditAccountState, { status: 'open' }>,
  events: readonly CreditEvent[],
  at: string,
): CreditEvent[] {
  const after = events.reduce(evolveCredits, account as CreditAccountState);
  if (after.status !== 'open') return [];
  const threshold = after.lowBalanceThreshold;
  if (threshold === undefined || threshold === null || after.lowBalanceAlerted || after.balance >= threshold) return [];
  return [{ type: 'CreditsBalanceLow', data: { balance: after.balance, threshold, at } }];
}

export function decideCredits(command: CreditCommand, state: CreditAccountState): CreditEvent[] {
  const events = decideCreditsAlone(command, state);
  if (
    events.length === 0 ||
    !events.some((e) => e.type === 'CreditsCharged' || e.type === 'CreditsLowBalanceThresholdSet')
  )
    return events;
  return [...events, ...lowBalanceAfter(openOf(state), events, command.data.at)];
}

function decideCreditsAlone(command: CreditCommand, state: CreditAccountState): CreditEvent[] {
  const account = openOf(state);
  switch (command.type) {
    case 'ChargeCreditsInOrder': {
      parseInstant(command.data.at, 'at');
      if (!Array.isArray(command.data.charges)) {
        throw new ValidationError('invalid-charges', 'charges must be a list.', { field: 'charges' });
      }
      let balance = account.balance;
      const seen = new Set<string>();
      const events: CreditEvent[] = [];
      for (const { deliveryId, amount } of command.data.charges) {
        requireText(deliveryId, 'deliveryId');
        requireNonNegativeInteger(amount, 'amount');
        const existing = Object.hasOwn(account.charges, deliveryId) ? account.charges[deliveryId] : undefined;
        if (existing !== undefined && existing.amount !== amount) {
          throw new IllegalStateError(
            'charge-mismatch',
            `Delivery ${deliveryId} was already charged ${existing.amount}.`,
            {
              deliveryId,
              charged: existing.amount,
            },
          );
        }
        if (existing !== undefined || amount === 0 || seen.has(deliveryId) || balance < amount) continue;
        seen.add(deliveryId);
        balance -= amount;
        events.push({
          type: 'CreditsCharged',
          data: { deliveryId, amount, balanceAfter: balance, at: command.data.at },
        });
      }
      return events;
    }
    case 'SetLowBalanceThreshold': {
      const { threshold, at, by } = command.data;
      parseInstant(at, 'at');
      requireText(by, 'by');
      if (threshold !== null) requireNonNegativeInteger(threshold, 'threshold');
      if ((account.lowBalanceThreshold ?? null) === threshold) return [];
      return [{ type: 'CreditsLowBalanceThresholdSet', data: { threshold, at, by } }];
    }
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
    case 'CreditsLowBalanceThresholdSet':
      // A new threshold is a new line to cross: the balance is judged against it afresh.
      return { ...account, lowBalanceThreshold: event.data.threshold, lowBalanceAlerted: false };
    case 'CreditsBalanceLow':
      return { ...account, lowBalanceAlerted: true };
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
    case 'CreditsToppedUp': {
      const threshold = account.lowBalanceThreshold;
      const rearmed = threshold !== undefined && threshold !== null && event.data.balanceAfter >= threshold;
      return {
        ...account,
        balance: event.data.balanceAfter,
        topUps: { ...account.topUps, [event.data.topUpId]: event.data.amount },
        ...(rearmed ? { lowBalanceAlerted: false } : {}),
      };
    }
  }
}

export const creditAccountDecider: Decider<CreditCommand, CreditAccountState, CreditEvent> = {
  decide: decideCredits,
  evolve: evolveCredits,
  initialState: initialCreditAccountState,
};
