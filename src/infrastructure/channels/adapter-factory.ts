import type { ChannelAdapterFactory } from '../../application/channels/channel-configuration.js';
import { emailSenderChannel } from '../../application/channels/sender-channels.js';
import type { Clock } from '../../application/ports/clock.port.js';
import type { Logger } from '../../application/ports/logger.port.js';
import { createSmtpEmailSender } from '../email/smtp-email-sender.js';
import {
  createActiveCampaignCrmChannel,
  createHubSpotCrmChannel,
  createIntercomCrmChannel,
  createMailchimpCrmChannel,
  createSalesforceCrmChannel,
} from './crm-channels.js';
import { createSendGridEmailChannel } from './sendgrid-email-channel.js';
import { createSmartEmailingEmailChannel } from './smartemailing-email-channel.js';
import { createGoogleCalendarChannel, createOutlookCalendarChannel } from './calendar-channels.js';
import { createFcmPushChannel } from './fcm-push-channel.js';
import { createWebexMeetingChannel, createZoomMeetingChannel } from './meeting-channels.js';
import { createPusherRealtimeChannel } from './pusher-realtime-channel.js';
import { createSesEmailChannel } from './ses-email-channel.js';
import { createDiscordChannel, createSlackChannel, createTeamsChannel } from './staff-chat-channels.js';
import { createTelegramChannel } from './telegram-channel.js';
import { createWhatsAppCloudChannel } from './whatsapp-cloud-channel.js';

/**
 * Builds a tenant's adapter from its configuration (`TENANT_PROVIDERS` says which settings and credentials each
 * provider has; the domain checked them before they were recorded). Adding a provider: an adapter, an entry in
 * TENANT_PROVIDERS, a case here (docs/channels.md, "Writing an adapter").
 */
export function createChannelAdapterFactory(deps: { clock: Clock; logger: Logger }): ChannelAdapterFactory {
  return (provider, settings, credentials) => {
    const apiUrl = settings.apiUrl ? { apiUrl: settings.apiUrl } : {};
    switch (provider) {
      case 'smtp':
        return emailSenderChannel(
          createSmtpEmailSender({ url: credentials.url!, clock: deps.clock, logger: deps.logger }),
        );
      case 'sendgrid':
        return createSendGridEmailChannel({ apiKey: credentials.apiKey!, ...apiUrl, clock: deps.clock });
      case 'smartemailing':
        return createSmartEmailingEmailChannel({
          username: settings.username!,
          apiKey: credentials.apiKey!,
          ...apiUrl,
          clock: deps.clock,
        });
      case 'ses':
        return createSesEmailChannel({
          region: settings.region!,
          accessKeyId: credentials.accessKeyId!,
          secretAccessKey: credentials.secretAccessKey!,
          ...(settings.configurationSetName ? { configurationSetName: settings.configurationSetName } : {}),
          ...apiUrl,
          clock: deps.clock,
        });
      case 'fcm':
        return createFcmPushChannel({
          projectId: settings.projectId!,
          clientEmail: settings.clientEmail!,
          // Pasted from the key file's JSON, the PEM's line breaks may still be written \n.
          privateKey: credentials.privateKey!.replace(/\\n/g, '\n'),
          ...apiUrl,
          ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
          clock: deps.clock,
        });
      case 'google-calendar':
        return createGoogleCalendarChannel({
          calendarId: settings.calendarId!,
          clientEmail: settings.clientEmail!,
          privateKey: credentials.privateKey!.replace(/\\n/g, '\n'),
          ...(settings.subject ? { subject: settings.subject } : {}),
          ...apiUrl,
          ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
          clock: deps.clock,
        });
      case 'outlook':
        return createOutlookCalendarChannel({
          tenantId: settings.tenantId!,
          clientId: settings.clientId!,
          clientSecret: credentials.clientSecret!,
          userId: settings.userId!,
          ...apiUrl,
          ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
          clock: deps.clock,
        });
      case 'pusher':
        return createPusherRealtimeChannel({
          appId: settings.appId!,
          key: settings.key!,
          secret: credentials.secret!,
          cluster: settings.cluster!,
          ...apiUrl,
          ...(settings.eventName ? { eventName: settings.eventName } : {}),
          clock: deps.clock,
        });
      case 'whatsapp-cloud':
        return createWhatsAppCloudChannel({
          accessToken: credentials.accessToken!,
          phoneNumberId: settings.phoneNumberId!,
          ...apiUrl,
          clock: deps.clock,
        });
      case 'telegram':
        return createTelegramChannel({ botToken: credentials.botToken!, ...apiUrl, clock: deps.clock });
      case 'slack':
        return createSlackChannel({ webhookUrl: credentials.webhookUrl!, clock: deps.clock });
      case 'teams':
        return createTeamsChannel({ webhookUrl: credentials.webhookUrl!, clock: deps.clock });
      case 'discord':
        return createDiscordChannel({ webhookUrl: credentials.webhookUrl!, clock: deps.clock });
      case 'hubspot':
        return createHubSpotCrmChannel({ accessToken: credentials.accessToken!, ...apiUrl, clock: deps.clock });
      case 'intercom':
        return createIntercomCrmChannel({
          accessToken: credentials.accessToken!,
          ...(settings.apiVersion ? { apiVersion: settings.apiVersion } : {}),
          ...apiUrl,
          clock: deps.clock,
        });
      case 'mailchimp':
        return createMailchimpCrmChannel({
          apiKey: credentials.apiKey!,
          listId: settings.listId!,
          ...apiUrl,
          clock: deps.clock,
        });
      case 'activecampaign':
        return createActiveCampaignCrmChannel({
          actid: settings.actid!,
          eventKey: credentials.eventKey!,
          ...apiUrl,
          clock: deps.clock,
        });
      case 'salesforce':
        return createSalesforceCrmChannel({
          instanceUrl: settings.instanceUrl!,
          accessToken: credentials.accessToken!,
          ...(settings.apiVersion ? { apiVersion: settings.apiVersion } : {}),
          clock: deps.clock,
        });
      case 'zoom':
        return createZoomMeetingChannel({
          accountId: settings.accountId!,
          clientId: credentials.clientId!,
          clientSecret: credentials.clientSecret!,
          ...apiUrl,
          ...(settings.tokenUrl ? { tokenUrl: settings.tokenUrl } : {}),
          clock: deps.clock,
        });
      case 'webex':
        return createWebexMeetingChannel({ accessToken: credentials.accessToken!, ...apiUrl, clock: deps.clock });
      default:
        throw new Error(`no adapter for provider ${provider}`);
    }
  };
}
