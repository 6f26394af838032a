import { CAMPAIGN_EVENT_TYPES, type CampaignEvent } from '../../domain/campaign/campaign.decider.js';
import type { Projection } from './projection.js';

/**
 * "Which campaigns are there, and how far are they?" — the campaign list, and the runner's start-up sweep (running
 * campaigns get their batch jobs back at once after a crash). The recipients themselves stay in the stream.
 */
export interface CampaignDocument extends Record<string, unknown> {
  tenantId: string;
  campaignId: string;
  name: string;
  status: 'preparing' | 'running' | 'completed' | 'cancelled';
  audienceType: string;
  channels: string[];
  recipientCount: number;
  /** Per channel: recipients processed, deliveries requested and skipped, when the next batch is due. */
  progress: Record<string, { next: number; requested: number; skipped: number; nextAt: string | null }>;
  createdAt: string;
  createdBy: string;
  startedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  updatedAt: string;
}

export function campaignDocumentId(tenantId: string, campaignId: string): string {
  return `${tenantId}:${campaignId}`;
}

export const campaignsProjection: Projection<CampaignDocument> = {
  name: 'campaigns',
  version: 1,
  collection: 'campaigns',
  eventTypes: CAMPAIGN_EVENT_TYPES,
  indexes: [['tenantId', 'createdAt'], ['status']],
  documentId: (event) => {
    const campaignId = (event.data as { campaignId?: unknown }).campaignId;
    return typeof campaignId === 'string' ? campaignDocumentId(event.metadata.tenantId, campaignId) : null;
  },
  evolve(doc, recorded) {
    const event = { type: recorded.type, data: recorded.data } as CampaignEvent;
    if (event.type === 'CampaignCreated') {
      return {
        tenantId: event.data.tenantId,
        campaignId: event.data.campaignId,
        name: event.data.name,
        status: 'preparing',
        audienceType: event.data.audience.type,
        channels: [...event.data.channels],
        recipientCount: 0,
        progress: {},
        createdAt: event.data.createdAt,
        createdBy: event.data.actor,
        startedAt: null,
        completedAt: null,
        cancelledAt: null,
        updatedAt: recorded.recordedAt,
      };
    }
    if (!doc) return null;
    const touched = { ...doc, updatedAt: recorded.recordedAt };
    switch (event.type) {
      case 'CampaignRecipientsAdded':
        return { ...touched, recipientCount: event.data.from + event.data.recipients.length };
      case 'CampaignStarted':
        return {
          ...touched,
          status: doc.status === 'cancelled' ? 'cancelled' : 'running',
          recipientCount: event.data.recipientCount,
          startedAt: event.data.startedAt,
          progress: Object.fromEntries(
            event.data.channels.map((channel) => [
              channel,
              { next: 0, requested: 0, skipped: 0, nextAt: event.data.startedAt },
            ]),
          ),
        };
      case 'CampaignBatchProcessed': {
        const before = doc.progress[event.data.channel] ?? { next: 0, requested: 0, skipped: 0, nextAt: null };
        return {
          ...touched,
          progress: {
            ...doc.progress,
            [event.data.channel]: {
              next: event.data.to,
              requested: before.requested + event.data.requested,
              skipped: before.skipped + event.data.skipped,
              nextAt: event.data.done ? null : event.data.nextAt,
            },
          },
        };
      }
      case 'CampaignCompleted':
        return { ...touched, status: 'completed', completedAt: event.data.completedAt };
      case 'CampaignCancelled':
        return { ...touched, status: 'cancelled', cancelledAt: event.data.cancelledAt };
      default:
        return doc;
    }
  },
};
