import { z } from 'zod';
import { CHANNELS, MAX_PROVIDERS_PER_CHANNEL, TENANT_PROVIDERS } from '../../../domain/notification/index.js';

const providerName = z.enum(Object.keys(TENANT_PROVIDERS) as [string, ...string[]]);
const field = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,63}$/);

export const channelParams = z.object({ channel: z.enum(CHANNELS) });

export const channelConfigurationInputSchema = z
  .strictObject({
    providers: z
      .array(
        z.strictObject({
          provider: providerName.describe(
            'smtp, sendgrid, ses, smartemailing (email); whatsapp-cloud (whatsapp); telegram (telegram); slack, teams, discord (staff-chat); hubspot, intercom, mailchimp, activecampaign, salesforce (crm); fcm (push); pusher (realtime); google-calendar, outlook (calendar); zoom, webex (meeting).',
          ),
          settings: z
            .record(field, z.string().max(2000))
            .optional()
            .describe(
              'Not secret, shown back: apiUrl, phoneNumberId, botUsername, webhookPublicKey, username, region…',
            ),
          credentials: z
            .record(field, z.string().max(4096))
            .describe('Secret: encrypted at rest (AES-256-GCM), never returned or logged. apiKey, botToken…'),
        }),
      )
      .min(1)
      .max(MAX_PROVIDERS_PER_CHANNEL)
      .describe(
        'First provider first; the next ones take over when it keeps failing (CHANNEL_FAILOVER_AFTER_SECONDS).',
      ),
  })
  .meta({ id: 'ChannelConfiguration' });

export const channelViewSchema = z
  .object({
    channel: z.enum(CHANNELS),
    source: z.enum(['tenant', 'environment']).describe('tenant: your providers; environment: the deployment’s.'),
    providers: z.array(
      z.object({
        provider: z.string(),
        settings: z.record(z.string(), z.string()),
        credentials: z.array(z.string()).describe('The names of the credentials held (the values are never shown).'),
      }),
    ),
    configuredAt: z.string().nullable(),
  })
  .meta({ id: 'Channel' });
