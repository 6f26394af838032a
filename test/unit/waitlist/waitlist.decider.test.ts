import { describe, expect, it } from 'vitest';
import { fold } from '../../../src/domain/shared/decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import {
  findEntry,
  positionOf,
  waitingInOrder,
  waitlistDecider,
  type WaitlistCommand,
  type WaitlistEvent,
  type WaitlistState,
} from '../../../src/domain/waitlist/waitlist.decider.js';
import { deciderSpec } from '../support/decider-spec.js';
import {
  ACTOR,
  SYSTEM,
  SLOT,
  START,
  END,
  NOW,
  WAITLIST_ID,
  accepted,
  allocate,
  answer,
  cause,
  customer,
  declined,
  expire,
  expired,
  join,
  joined,
  lane,
  later,
  offerMade,
  ref,
  seatAssigned,
  withdraw,
  withdrawn,
} from './fixtures.js';

const spec = deciderSpec(waitlistDecider);
/**
 * Allocation is decided from the seats free on the inventory, read again before every decision (the offers' holds
 * then count): resending the same `free` is not a retry, so the resend check does not apply.
 */
const REDECIDED = { resendDecidesNothing: false };
const stateOf = (events: readonly WaitlistEvent[]): WaitlistState => fold(waitlistDecider, events);
const line = (events: readonly WaitlistEvent[]) => waitingInOrder(stateOf(events)).map((entry) => entry.entryId);

/** Three customers waiting, one seat each, in this order. */
const threeWaiting = [joined(1, 1, 1), joined(2, 2, 2), joined(3, 3, 3)];

describe('joining', () => {
  it('the first join opens the list with its slot: number 1', () => {
    const after = spec
      .given([])
      .when(join(1))
      .then([joined(1, 1, 1)]);
    expect(after).toMatchObject({ status: 'open', waitlistId: WAITLIST_ID, slot: SLOT, nextSeq: 2 });
    expect(positionOf(after, 'e1')).toBe(1);
  });

  it('later joins go to the end of the line; the position counts only those still waiting', () => {
    spec
      .given([joined(1, 1, 1)])
      .when(join(2))
      .then([joined(2, 2, 2)]);
    // Number 1 holds an offer: the next to join is number 1 of those waiting.
    spec
      .given([joined(1, 1, 1), offerMade(1)])
      .when(join(2))
      .then([joined(2, 2, 1)]);
  });

  it('keeps the list’s slot: a join that names another slot is refused', () => {
    spec
      .given([joined(1, 1, 1)])
      .when(join(2, { slot: { ...SLOT, start: later(60, START), end: later(60, END) } }))
      .thenThrows(IllegalStateError, { code: 'waitlist-mismatch' });
  });

  it('one active entry per customer: joining again (by id, or by email in any case) decides nothing', () => {
    spec
      .given([joined(1, 1, 1)])
      .when(join(9, { customer: customer(1, { name: 'Someone else' }) }))
      .thenNothing();
    const noId = { ...customer(5), id: undefined, email: 'Ada@Example.com' } as ReturnType<typeof customer>;
    delete (noId as { id?: string }).id;
    const sameEmail = { ...noId, email: 'ada@example.com ' };
    spec
      .given([joined(5, 1, 1, { customer: { ...noId, email: 'Ada@Example.com' } })])
      .when(join(6, { customer: sameEmail }))
      .thenNothing();
    // An offered entry is active too.
    spec
      .given([joined(1, 1, 1), offerMade(1)])
      .when(join(9, { customer: customer(1) }))
      .thenNothing();
  });

  it('a customer whose entry ended may join again, at the end of the line', () => {
    const given = [joined(1, 1, 1), joined(2, 2, 2), offerMade(1), declined(1)];
    spec
      .given(given)
      .when(join(9, { customer: customer(1) }))
      .then([joined(9, 3, 2, { customer: customer(1) })]);
  });

  it('the same entry id again: nothing when it describes the same entry, a conflict when not', () => {
    spec
      .given([joined(1, 1, 1)])
      .when(join(1))
      .thenNothing();
    spec
      .given([joined(1, 1, 1)])
      .when(join(1, { partySize: 2 }))
      .thenThrows(IllegalStateError, { code: 'waitlist-entry-exists', details: { entryId: 'e1' } });
    spec
      .given([joined(1, 1, 1)])
      .when(join(1, { customer: customer(2) }))
      .thenThrows(IllegalStateError, { code: 'waitlist-entry-exists' });
  });

  it('the cap counts active entries (waiting and offered): waitlist-full at the limit, room again when one ends', () => {
    const two = [joined(1, 1, 1), joined(2, 2, 2), offerMade(1)];
    spec
      .given(two)
      .when(join(3, { maxEntries: 2 }))
      .thenThrows(IllegalStateError, { code: 'waitlist-full', details: { maxEntries: 2 } });
    spec
      .given([...two, declined(1)])
      .when(join(3, { maxEntries: 2 }))
      .then([joined(3, 3, 2)]);
  });

  it('a closed list takes nobody', () => {
    spec
      .given([joined(1, 1, 1), closedAt(START)])
      .when(join(2))
      .thenThrows(IllegalStateError, { code: 'waitlist-closed' });
  });

  it('needs a way to tell the customer: an email address or a phone number', () => {
    spec
      .given([])
      .when(join(1, { customer: { name: 'No contact', locale: 'en', id: 'c1' } }))
      .thenThrows(ValidationError, { details: { field: 'customer', rule: 'contact' } });
  });

  it('channels default to the customer’s contacts and must match them', () => {
    const emailOnly = { id: 'c1', name: 'Mail only', email: 'mail@example.com', locale: 'en' };
    spec
      .given([])
      .when(join(1, { customer: emailOnly }))
      .then([joined(1, 1, 1, { customer: emailOnly, channels: ['email'] })]);
    spec
      .given([])
      .when(join(1, { customer: emailOnly, channels: ['sms'] }))
      .thenThrows(ValidationError, { details: { field: 'channels', rule: 'contact' } });
    spec
      .given([])
      .when(join(1, { channels: [] }))
      .thenThrows(ValidationError, { details: { field: 'channels', rule: 'non-empty' } });
    // Repeated and out of order: normalised.
    spec
      .given([])
      .when(join(1, { channels: ['sms', 'email', 'sms'] }))
      .then([joined(1, 1, 1, { channels: ['email', 'sms'] })]);
  });

  it('refuses a slot that has started', () => {
    spec
      .given([])
      .when(join(1, { now: START }))
      .thenThrows(ValidationError, { details: { field: 'start', rule: 'in-the-past' } });
  });

  it('validates the party size', () => {
    spec
      .given([])
      .when(join(1, { partySize: 0 }))
      .thenThrows(ValidationError, { details: { field: 'partySize' } });
  });
});

describe('leaving, removal and skipping', () => {
  it('the customer leaves; the others move up; leaving twice is harmless', () => {
    const after = spec
      .given(threeWaiting)
      .when({ type: 'LeaveWaitlist', data: { entryId: 'e1', now: NOW, actor: 'customer:link' } })
      .then([
        {
          type: 'WaitlistEntryLeft',
          data: { waitlistId: WAITLIST_ID, entryId: 'e1', withdrawnOffer: null, leftAt: NOW, actor: 'customer:link' },
        },
      ]);
    expect(positionOf(after, 'e2')).toBe(1);
    expect(findEntry(after, 'e1')?.status).toBe('left');
  });

  it('leaving with an open offer withdraws it: the event carries the offer so its seats can be given back', () => {
    const after = spec
      .given([...threeWaiting, offerMade(1)])
      .when({ type: 'LeaveWaitlist', data: { entryId: 'e1', now: NOW, actor: 'customer:link' } })
      .then([
        {
          type: 'WaitlistEntryLeft',
          data: {
            waitlistId: WAITLIST_ID,
            entryId: 'e1',
            withdrawnOffer: ref(1),
            leftAt: NOW,
            actor: 'customer:link',
          },
        },
      ]);
    expect(findEntry(after, 'e1')?.offer?.status).toBe('withdrawn');
  });

  it('staff remove an entry with a reason, its open offer withdrawn; removing twice is harmless', () => {
    spec
      .given([...threeWaiting, offerMade(2)])
      .when({ type: 'RemoveEntry', data: { entryId: 'e2', reason: 'duplicate', now: NOW, actor: ACTOR } })
      .then([
        {
          type: 'WaitlistEntryRemoved',
          data: {
            waitlistId: WAITLIST_ID,
            entryId: 'e2',
            reason: 'duplicate',
            withdrawnOffer: ref(2),
            removedAt: NOW,
            actor: ACTOR,
          },
        },
      ]);
    spec
      .given(threeWaiting)
      .when({ type: 'RemoveEntry', data: { entryId: 'e2', reason: '  ', now: NOW, actor: ACTOR } })
      .thenThrows(ValidationError, { details: { field: 'reason' } });
  });

  it('skipping moves the entry to the end of the line with a new order number', () => {
    const after = spec
      .given(threeWaiting)
      .when({ type: 'SkipEntry', data: { entryId: 'e1', reason: 'asked to wait', now: NOW, actor: ACTOR } })
      .then(
        [
          {
            type: 'WaitlistEntrySkipped',
            data: {
              waitlistId: WAITLIST_ID,
              entryId: 'e1',
              reason: 'asked to wait',
              seq: 4,
              withdrawnOffer: null,
              skippedAt: NOW,
              actor: ACTOR,
            },
          },
        ],
        // Skipping again moves it again (to the end, where it already is): a deliberate staff action.
        { resendDecidesNothing: false },
      );
    expect(waitingInOrder(after).map((e) => e.entryId)).toEqual(['e2', 'e3', 'e1']);
    // A customer joining afterwards comes after the skipped entry: no ties.
    const state = stateOf([...threeWaiting, skippedEvent(1, 4)]);
    expect(waitlistDecider.decide(join(4), state)).toEqual([joined(4, 5, 4)]);
  });

  it('skipping an offered entry withdraws its offer and puts it back in line, last', () => {
    const given = [...threeWaiting, offerMade(1)];
    const after = spec
      .given(given)
      .when({ type: 'SkipEntry', data: { entryId: 'e1', reason: 'no answer by phone', now: NOW, actor: ACTOR } })
      .then([skippedEvent(1, 4, 'no answer by phone', ref(1))], { resendDecidesNothing: false });
    expect(findEntry(after, 'e1')).toMatchObject({ status: 'waiting', offer: { status: 'withdrawn' } });
    expect(line([...given, skippedEvent(1, 4)])).toEqual(['e2', 'e3', 'e1']);
  });

  it('an entry that is not active cannot be left, removed or skipped', () => {
    const given = [...threeWaiting, offerMade(1), accepted(1)];
    const commands: WaitlistCommand[] = [
      { type: 'LeaveWaitlist', data: { entryId: 'e1', now: NOW, actor: ACTOR } },
      { type: 'RemoveEntry', data: { entryId: 'e1', reason: 'x', now: NOW, actor: ACTOR } },
      { type: 'SkipEntry', data: { entryId: 'e1', reason: 'x', now: NOW, actor: ACTOR } },
    ];
    for (const command of commands) {
      spec
        .given(given)
        .when(command)
        .thenThrows(IllegalStateError, { code: 'waitlist-entry-not-active', details: { status: 'booked' } });
    }
    spec
      .given([...threeWaiting, leftEvent(2)])
      .when({ type: 'RemoveEntry', data: { entryId: 'e2', reason: 'x', now: NOW, actor: ACTOR } })
      .thenThrows(IllegalStateError, { code: 'waitlist-entry-not-active', details: { status: 'left' } });
    spec
      .given(threeWaiting)
      .when({ type: 'LeaveWaitlist', data: { entryId: 'nobody', now: NOW, actor: ACTOR } })
      .thenThrows(NotFoundError, { code: 'waitlist-entry-not-found' });
  });
});

describe('allocating freed seats', () => {
  it('offers a freed seat to the first in line, with a response window', () => {
    const after = spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)]))
      .then([offerMade(1)], REDECIDED);
    expect(findEntry(after, 'e1')).toMatchObject({ status: 'offered', offer: { status: 'open', offerId: 'e1.1' } });
    expect(line([...threeWaiting, offerMade(1)])).toEqual(['e2', 'e3']);
  });

  it('no free seat, or nobody waiting: nothing', () => {
    spec
      .given(threeWaiting)
      .when(allocate([lane(1, 0)]))
      .thenNothing();
    spec.given(threeWaiting).when(allocate([])).thenNothing();
    spec
      .given([joined(1, 1, 1), leftEvent(1)])
      .when(allocate([lane(1, 3)]))
      .thenNothing();
    spec
      .given([])
      .when(allocate([lane(1, 3)]))
      .thenNothing();
  });

  it('an entry pinned to a resource is only offered seats of that resource, and keeps its place', () => {
    const given = [joined(1, 1, 1, { resourceId: 'lane-2' }), joined(2, 2, 2)];
    spec
      .given(given)
      .when(allocate([lane(1, 1)]))
      .then([offerMade(2)], REDECIDED);
    spec
      .given([...given, offerMade(2)])
      .when(allocate([lane(1, 0), lane(2, 1)]))
      .then([offerMade(1, { resourceId: 'lane-2' })], REDECIDED);
  });

  it('a party larger than the freed seats keeps its place; a later, smaller party gets them', () => {
    const given = [joined(1, 1, 1, { partySize: 3 }), joined(2, 2, 2, { partySize: 2 }), joined(3, 3, 3)];
    spec
      .given(given)
      .when(allocate([lane(1, 2)]))
      .then([offerMade(2, { seats: 2 })], REDECIDED);
    // The large party is first for the next seats that fit it.
    spec
      .given([...given, offerMade(2, { seats: 2 })])
      .when(allocate([lane(1, 3)]))
      .then([offerMade(1, { seats: 3 })], REDECIDED);
    expect(positionOf(stateOf([...given, offerMade(2, { seats: 2 })]), 'e1')).toBe(1);
  });

  it('several seats go to several entries, in joining order, first fit across resources', () => {
    const given = [
      joined(1, 1, 1, { partySize: 2 }),
      joined(2, 2, 2),
      joined(3, 3, 3, { partySize: 2 }),
      joined(4, 4, 4),
    ];
    spec
      .given(given)
      .when(allocate([lane(1, 1), lane(2, 3)]))
      .then(
        [offerMade(1, { resourceId: 'lane-2', seats: 2 }), offerMade(2), offerMade(4, { resourceId: 'lane-2' })],
        REDECIDED,
      );
  });

  it('assign mode books the seat for the entry at once', () => {
    const after = spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)], { mode: 'assign' }))
      .then([seatAssigned(1)], REDECIDED);
    expect(findEntry(after, 'e1')).toMatchObject({
      status: 'booked',
      reservationId: 'e1.1',
      offer: { mode: 'assign', status: 'accepted' },
    });
  });

  it('the response window never runs past the deadline', () => {
    const deadline = later(10);
    spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)], { deadline, window: 3600 }))
      .then([offerMade(1, { expiresAt: deadline })], REDECIDED);
    spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)], { window: 60 }))
      .then([offerMade(1, { expiresAt: later(1) })], REDECIDED);
  });

  it('at or after the deadline nothing is offered or recorded, and a closed list allocates nothing', () => {
    spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)], { deadline: NOW, cause: cause('ev-1') }))
      .thenNothing();
    spec
      .given([...threeWaiting, closedAt(START, ['e1', 'e2', 'e3'])])
      .when(allocate([lane(1, 1)], { now: START, deadline: END, cause: cause('ev-1') }))
      .thenNothing();
  });

  it('records a freed seat once per cause, and only when someone waiting fits it', () => {
    const freed = cause('ev-release-1');
    const seatsFreed: WaitlistEvent = {
      type: 'WaitlistSeatsFreed',
      data: { waitlistId: WAITLIST_ID, cause: freed, free: [lane(1, 1)], waiting: 3, recordedAt: NOW, actor: SYSTEM },
    };
    spec
      .given(threeWaiting)
      .when(allocate([lane(1, 1)], { cause: freed }))
      .then([seatsFreed, offerMade(1, { cause: freed })], REDECIDED);
    // The same release again (the manager and the staff request both allocate): not recorded twice.
    spec
      .given([...threeWaiting, seatsFreed, offerMade(1, { cause: freed })])
      .when(allocate([lane(1, 1)], { cause: freed }))
      .then([offerMade(2, { cause: freed })], REDECIDED);
    // Nobody fits (a party of three for one seat): nothing to record.
    spec
      .given([joined(1, 1, 1, { partySize: 3 })])
      .when(allocate([lane(1, 1)], { cause: freed }))
      .thenNothing();
  });

  it('the list is exhausted only after an offer went unanswered and nobody waiting fits the free seats', () => {
    const exhausted = (free = [lane(1, 1)], waiting = 0, now = later(20)): WaitlistEvent => ({
      type: 'WaitlistExhausted',
      data: { waitlistId: WAITLIST_ID, free, waiting, exhaustedAt: now, actor: SYSTEM },
    });
    const unanswered = [joined(1, 1, 1), offerMade(1), expired(1, later(15), later(15))];
    const after = spec
      .given(unanswered)
      .when(allocate([lane(1, 1)], { now: later(20) }))
      .then([exhausted()]);
    expect(after).toMatchObject({ unservedOffer: false });
    // Someone waits who needs more seats than are free: still exhausted (they keep their place).
    spec
      .given([joined(1, 1, 1), joined(2, 2, 2, { partySize: 2 }), offerMade(1), declined(1)])
      .when(allocate([lane(1, 1)], { now: later(20) }))
      .then([exhausted([lane(1, 1)], 1)], REDECIDED);
    // Without an unanswered offer (a plain cancellation nobody fits), staff are not alerted.
    spec
      .given([joined(2, 1, 1, { partySize: 2 })])
      .when(allocate([lane(1, 1)], { now: later(20) }))
      .thenNothing();
    // Someone fits: an offer, not exhaustion.
    spec
      .given([...unanswered, joined(2, 2, 1)])
      .when(allocate([lane(1, 1)], { now: later(20) }))
      .then([offerMade(2, { now: later(20) })], REDECIDED);
    // No free seats: nothing (the offer's seats are not back yet).
    spec
      .given(unanswered)
      .when(allocate([lane(1, 0)], { now: later(20) }))
      .thenNothing();
  });

  describe('admin override: a chosen entry, out of order', () => {
    const override = { by: ACTOR, reason: 'regular, promised a place' };

    it('offers (or assigns) the seat to that entry, recording who and why', () => {
      spec
        .given(threeWaiting)
        .when(allocate([lane(1, 1)], { entryId: 'e3', override }))
        .then([offerMade(3, { override })], REDECIDED);
      spec
        .given(threeWaiting)
        .when(allocate([lane(1, 1)], { entryId: 'e3', override, mode: 'assign' }))
        .then([seatAssigned(3, { override })], REDECIDED);
    });

    it('refuses when no resource the entry accepts has its seats free', () => {
      spec
        .given([...threeWaiting, joined(4, 4, 4, { partySize: 2 })])
        .when(allocate([lane(1, 1)], { entryId: 'e4', override }))
        .thenThrows(IllegalStateError, { code: 'no-free-seat', details: { entryId: 'e4' } });
    });

    it('refuses an entry that is not waiting, or does not exist', () => {
      spec
        .given([...threeWaiting, offerMade(1)])
        .when(allocate([lane(1, 1)], { entryId: 'e1', override }))
        .thenThrows(IllegalStateError, { code: 'waitlist-entry-not-waiting', details: { status: 'offered' } });
      spec
        .given(threeWaiting)
        .when(allocate([lane(1, 1)], { entryId: 'e9', override }))
        .thenThrows(NotFoundError, { code: 'waitlist-entry-not-found' });
      spec
        .given([])
        .when(allocate([lane(1, 1)], { entryId: 'e9', override }))
        .thenThrows(NotFoundError, { code: 'waitlist-entry-not-found' });
    });

    it('refuses after the deadline', () => {
      spec
        .given(threeWaiting)
        .when(allocate([lane(1, 1)], { entryId: 'e2', override, deadline: NOW }))
        .thenThrows(IllegalStateError, { code: 'waitlist-closed' });
    });
  });
});

describe('answering an offer', () => {
  const offered = [...threeWaiting, offerMade(1)];
  const expiresAt = later(15);

  it('accepting books the entry; accepting again decides nothing', () => {
    const after = spec
      .given(offered)
      .when(answer('AcceptOffer', 'e1.1', later(5)))
      .then([accepted(1, later(5))]);
    expect(findEntry(after, 'e1')).toMatchObject({ status: 'booked', reservationId: 'e1.1' });
  });

  it('accepting when the window has run out is offer-expired, whether or not the expiry was recorded', () => {
    spec
      .given(offered)
      .when(answer('AcceptOffer', 'e1.1', expiresAt))
      .thenThrows(IllegalStateError, { code: 'offer-expired', details: { offerId: 'e1.1', expiresAt } });
    spec
      .given([...offered, expired(1, expiresAt)])
      .when(answer('AcceptOffer', 'e1.1', later(5)))
      .thenThrows(IllegalStateError, { code: 'offer-expired', details: { status: 'expired' } });
  });

  it('a declined or withdrawn offer cannot be accepted: offer-not-open; an unknown one: offer-not-found', () => {
    spec
      .given([...offered, declined(1)])
      .when(answer('AcceptOffer', 'e1.1', later(5)))
      .thenThrows(IllegalStateError, { code: 'offer-not-open', details: { status: 'declined' } });
    spec
      .given([...offered, withdrawn(1)])
      .when(answer('AcceptOffer', 'e1.1', later(5)))
      .thenThrows(IllegalStateError, { code: 'offer-not-open', details: { status: 'withdrawn' } });
    spec
      .given([...offered, leftEvent(1, ref(1))])
      .when(answer('AcceptOffer', 'e1.1', later(5)))
      .thenThrows(IllegalStateError, { code: 'offer-not-open', details: { status: 'withdrawn' } });
    spec
      .given(offered)
      .when(answer('AcceptOffer', 'e2.1', later(5)))
      .thenThrows(NotFoundError, { code: 'offer-not-found' });
  });

  it('declining ends the entry; declining again decides nothing; an answered offer cannot be declined', () => {
    const after = spec
      .given(offered)
      .when(answer('DeclineOffer', 'e1.1', later(5)))
      .then([declined(1, later(5))]);
    expect(findEntry(after, 'e1')?.status).toBe('declined');
    expect(after).toMatchObject({ unservedOffer: true });
    spec
      .given([...offered, accepted(1)])
      .when(answer('DeclineOffer', 'e1.1', later(5)))
      .thenThrows(IllegalStateError, { code: 'offer-not-open', details: { status: 'accepted' } });
    spec
      .given([...offered, expired(1, expiresAt)])
      .when(answer('DeclineOffer', 'e1.1', later(20)))
      .thenThrows(IllegalStateError, { code: 'offer-expired' });
  });

  it('the expiry is refused before the window ends (the job runs again), and ends the entry after it', () => {
    spec
      .given(offered)
      .when(expire('e1.1', later(14)))
      .thenThrows(IllegalStateError, { code: 'offer-not-expired', details: { expiresAt } });
    const after = spec
      .given(offered)
      .when(expire('e1.1', later(16)))
      .then([expired(1, expiresAt, later(16))]);
    expect(findEntry(after, 'e1')).toMatchObject({ status: 'expired', offer: { status: 'expired' } });
    expect(after).toMatchObject({ unservedOffer: true });
  });

  it('an answered, withdrawn or unknown offer leaves nothing to expire', () => {
    for (const end of [accepted(1), declined(1), withdrawn(1)]) {
      spec
        .given([...offered, end])
        .when(expire('e1.1', later(16)))
        .thenNothing();
    }
    spec
      .given(offered)
      .when(expire('nope.1', later(16)))
      .thenNothing();
    spec
      .given([])
      .when(expire('nope.1', later(16)))
      .thenNothing();
  });

  it('an accept racing the expiry has exactly one outcome, whichever is recorded first', () => {
    const acceptFirst = [...offered, accepted(1, later(14))];
    spec
      .given(acceptFirst)
      .when(expire('e1.1', later(16)))
      .thenNothing();
    const expireFirst = [...offered, expired(1, expiresAt, later(16))];
    spec
      .given(expireFirst)
      .when(answer('AcceptOffer', 'e1.1', later(14)))
      .thenThrows(IllegalStateError, { code: 'offer-expired' });
  });

  it('a withdrawn offer (its seats were lost) puts the entry back in its place; its next offer has a new id', () => {
    const after = spec
      .given(offered)
      .when(withdraw('e1.1', later(1)))
      .then([withdrawn(1, later(1))]);
    expect(waitingInOrder(after).map((e) => e.entryId)).toEqual(['e1', 'e2', 'e3']);
    spec
      .given([...offered, withdrawn(1, later(1))])
      .when(allocate([lane(1, 1)], { now: later(2) }))
      .then([offerMade(1, { n: 2, now: later(2) })], REDECIDED);
    spec
      .given([...offered, accepted(1)])
      .when(withdraw('e1.1'))
      .thenThrows(IllegalStateError, { code: 'offer-not-open' });
  });

  it('an offer that a later one replaced is still known: its link answers that it is no longer open', () => {
    const reoffered = [...offered, withdrawn(1, later(1)), offerMade(1, { n: 2, now: later(2) })];
    spec
      .given(reoffered)
      .when(answer('AcceptOffer', 'e1.1', later(3)))
      .thenThrows(IllegalStateError, { code: 'offer-not-open', details: { offerId: 'e1.1', status: 'withdrawn' } });
    spec
      .given(reoffered)
      .when(expire('e1.1', later(30)))
      .thenNothing();
    spec
      .given(reoffered)
      .when(answer('AcceptOffer', 'e1.2', later(3)))
      .then([{ ...accepted(1, later(3), { n: 2 }) }]);
  });
});

describe('closing', () => {
  it('at the deadline, entries still waiting are closed; offered ones keep their offer', () => {
    const given = [...threeWaiting, offerMade(1)];
    const after = spec
      .given(given)
      .when({ type: 'CloseWaitlist', data: { deadline: START, now: START, actor: SYSTEM } })
      .then([closedAt(START, ['e2', 'e3'])]);
    expect(after.status).toBe('closed');
    expect(findEntry(after, 'e2')?.status).toBe('closed');
    expect(findEntry(after, 'e1')).toMatchObject({ status: 'offered', offer: { status: 'open' } });
    // The open offer can still be taken.
    expect(waitlistDecider.decide(answer('AcceptOffer', 'e1.1', later(5)), after)).toEqual([accepted(1, later(5))]);
  });

  it('too early: waitlist-not-due (the job runs again); an empty or closed list: nothing', () => {
    spec
      .given(threeWaiting)
      .when({ type: 'CloseWaitlist', data: { deadline: START, now: later(-1, START), actor: SYSTEM } })
      .thenThrows(IllegalStateError, { code: 'waitlist-not-due' });
    spec
      .given([])
      .when({ type: 'CloseWaitlist', data: { deadline: START, now: START, actor: SYSTEM } })
      .thenNothing();
  });
});

function closedAt(now: string, closedEntries: string[] = ['e1']): WaitlistEvent {
  return {
    type: 'WaitlistClosed',
    data: { waitlistId: WAITLIST_ID, closedEntries, deadline: START, closedAt: now, actor: SYSTEM },
  };
}

function skippedEvent(
  entry: number,
  seq: number,
  reason = 'asked to wait',
  withdrawnOffer: ReturnType<typeof ref> | null = null,
): WaitlistEvent {
  return {
    type: 'WaitlistEntrySkipped',
    data: {
      waitlistId: WAITLIST_ID,
      entryId: `e${entry}`,
      reason,
      seq,
      withdrawnOffer,
      skippedAt: NOW,
      actor: ACTOR,
    },
  };
}

function leftEvent(entry: number, withdrawnOffer: ReturnType<typeof ref> | null = null): WaitlistEvent {
  return {
    type: 'WaitlistEntryLeft',
    data: { waitlistId: WAITLIST_ID, entryId: `e${entry}`, withdrawnOffer, leftAt: NOW, actor: 'customer:link' },
  };
}
