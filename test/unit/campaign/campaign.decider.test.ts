import { describe, expect, it } from 'vitest';
import {
  campaignDecider,
  type CampaignCommand,
  type CampaignEvent,
  type CampaignRecipient,
  type CampaignState,
} from '../../../src/domain/campaign/campaign.decider.js';
import { IllegalStateError, NotFoundError, ValidationError } from '../../../src/domain/shared/errors.js';
import { deciderSpec } from '../support/decider-spec.js';

const spec = deciderSpec(campaignDecider);
const NOW = '2030-01-01T10:00:00.000Z';
const message = {
  sms: { text: 'Class cancelled, {{customerName}}.' },
  email: { subject: 'Cancelled', text: 'Sorry.' },
};
const audience = { type: 'reservations' as const, filter: { serviceId: 'yoga' } };
const recipients: CampaignRecipient[] = [1, 2, 3].map((n) => ({
  key: `c-${n}`,
  name: `C ${n}`,
  locale: 'en',
  phone: `+42077700000${n}`,
}));

const create: CampaignCommand = {
  type: 'CreateCampaign',
  data: { campaignId: 'camp-1', tenantId: 'acme', name: 'Cancelled', audience, message, now: NOW, actor: 'apikey:k' },
};
const created: CampaignEvent = {
  type: 'CampaignCreated',
  data: {
    campaignId: 'camp-1',
    tenantId: 'acme',
    name: 'Cancelled',
    audience,
    message,
    channels: ['email', 'sms'],
    createdAt: NOW,
    actor: 'apikey:k',
  },
};
const added: CampaignEvent = {
  type: 'CampaignRecipientsAdded',
  data: { campaignId: 'camp-1', chunk: 0, from: 0, recipients },
};
const started: CampaignEvent = {
  type: 'CampaignStarted',
  data: {
    campaignId: 'camp-1',
    recipientCount: 3,
    channels: ['email', 'sms'],
    throttle: { email: 50, sms: 2 },
    startedAt: NOW,
  },
};
const batch = (channel: 'email' | 'sms', from: number, to: number): CampaignCommand => ({
  type: 'RecordCampaignBatch',
  data: {
    campaignId: 'camp-1',
    channel,
    from,
    to,
    requested: to - from,
    skipped: 0,
    at: NOW,
    nextAt: '2030-01-01T10:00:01.000Z',
  },
});
const processed = (channel: 'email' | 'sms', from: number, to: number, done: boolean): CampaignEvent => ({
  type: 'CampaignBatchProcessed',
  data: {
    campaignId: 'camp-1',
    channel,
    from,
    to,
    requested: to - from,
    skipped: 0,
    done,
    at: NOW,
    nextAt: '2030-01-01T10:00:01.000Z',
  },
});

describe('campaign decider', () => {
  it('is created with its channels from the message; the same definition again is a retry, another one a clash', () => {
    spec.given([]).when(create).then([created]);
    spec
      .given([created])
      .when({ ...create, data: { ...create.data, name: 'Other' } } as CampaignCommand)
      .thenThrows(IllegalStateError, { code: 'campaign-already-exists' });
  });

  it('refuses a message with unsafe text or an unknown placeholder, or none at all', () => {
    for (const bad of [{ sms: { text: 'Hi \u202E' } }, { sms: { text: 'Hi {{price}}' } }, {}]) {
      spec
        .given([])
        .when({ ...create, data: { ...create.data, message: bad } } as CampaignCommand)
        .thenThrows(ValidationError);
    }
  });

  it('takes its recipients in chunks, in order, once each; a chunk sent again is a retry', () => {
    spec
      .given([created])
      .when({ type: 'AddCampaignRecipients', data: { campaignId: 'camp-1', chunk: 0, recipients } })
      .then([added]);
    spec
      .given([created])
      .when({ type: 'AddCampaignRecipients', data: { campaignId: 'camp-1', chunk: 1, recipients } })
      .thenThrows(IllegalStateError, { code: 'chunk-out-of-order' });
    spec
      .given([created, added])
      .when({ type: 'AddCampaignRecipients', data: { campaignId: 'camp-1', chunk: 1, recipients: [recipients[0]!] } })
      .thenThrows(ValidationError);
  });

  it('starts with the throttle in force; its recipients are then fixed', () => {
    const state = spec
      .given([created, added])
      .when({ type: 'StartCampaign', data: { campaignId: 'camp-1', throttle: { email: 50, sms: 2 }, now: NOW } })
      .then([started]);
    expect(state).toMatchObject({ status: 'running', progress: { sms: { next: 0 }, email: { next: 0 } } });
    spec
      .given([created, added, started])
      .when({
        type: 'AddCampaignRecipients',
        data: { campaignId: 'camp-1', chunk: 1, recipients: [{ ...recipients[0]!, key: 'x' }] },
      })
      .thenThrows(IllegalStateError, { code: 'campaign-started' });
  });

  it('a campaign without recipients completes when it starts', () => {
    spec
      .given([created])
      .when({ type: 'StartCampaign', data: { campaignId: 'camp-1', throttle: { email: 50, sms: 2 }, now: NOW } })
      .then([
        { ...started, data: { ...started.data, recipientCount: 0 } } as CampaignEvent,
        { type: 'CampaignCompleted', data: { campaignId: 'camp-1', channels: ['email', 'sms'], completedAt: NOW } },
      ]);
  });

  it('records batches per channel in order; a batch recorded already is nothing, one out of order is refused', () => {
    spec
      .given([created, added, started])
      .when(batch('sms', 0, 2))
      .then([processed('sms', 0, 2, false)]);
    spec
      .given([created, added, started, processed('sms', 0, 2, false)])
      .when(batch('sms', 0, 2))
      .thenNothing();
    spec
      .given([created, added, started])
      .when(batch('sms', 2, 3))
      .thenThrows(IllegalStateError, { code: 'batch-out-of-order' });
  });

  it('completes when the last channel has processed its last recipient', () => {
    spec
      .given([created, added, started, processed('email', 0, 3, true), processed('sms', 0, 2, false)])
      .when(batch('sms', 2, 3))
      .then([
        processed('sms', 2, 3, true),
        { type: 'CampaignCompleted', data: { campaignId: 'camp-1', channels: ['email', 'sms'], completedAt: NOW } },
      ]);
  });

  it('is cancelled while it runs; a batch recorded after that is kept as a fact, and it does not complete', () => {
    const cancel: CampaignCommand = {
      type: 'CancelCampaign',
      data: { campaignId: 'camp-1', reason: 'wrong class', now: NOW, actor: 'apikey:k' },
    };
    const cancelled: CampaignEvent = {
      type: 'CampaignCancelled',
      data: {
        campaignId: 'camp-1',
        channels: ['email', 'sms'],
        reason: 'wrong class',
        cancelledAt: NOW,
        actor: 'apikey:k',
      },
    };
    spec.given([created, added, started]).when(cancel).then([cancelled]);
    const state: CampaignState = spec
      .given([created, added, started, processed('email', 0, 3, true), cancelled])
      .when(batch('sms', 0, 3))
      .then([processed('sms', 0, 3, true)]);
    expect(state.status).toBe('cancelled');
    spec
      .given([
        created,
        added,
        started,
        processed('email', 0, 3, true),
        processed('sms', 0, 3, true),
        { type: 'CampaignCompleted', data: { campaignId: 'camp-1', channels: ['email', 'sms'], completedAt: NOW } },
      ])
      .when(cancel)
      .thenThrows(IllegalStateError, { code: 'campaign-completed' });
  });

  it('a campaign that does not exist is 404 for every command but creation', () => {
    spec
      .given([])
      .when(batch('sms', 0, 1))
      .thenThrows(NotFoundError, { code: 'campaign-not-found' });
  });
});
