import type { Command, Decider, DomainEvent } from '../shared/decider.js';
import { ValidationError } from '../shared/errors.js';
import type { Channel } from './kinds.js';
import { CHANNELS, isChannel } from './kinds.js';
import { parseInstant, requireText } from './validation.js';

/**
 * A tenant's own providers per channel (its SendGrid account, its Telegram bot, its WhatsApp number...), first
 * provider first, the others failovers. Stream `channels-<tenant>`. A channel the tenant has not configured uses
 * the environment's providers.
 *
 * Credentials never reach the domain in clear: the application seals them (AES-256-GCM, `CredentialCipher`) before
 * the command is decided, so events carry the sealed blob, the names of the fields it holds and a keyed fingerprint
 * (the same credentials again change nothing; other ones are a new configuration in the audit trail).
 */

export interface ProviderSpec {
  readonly channel: Channel;
  /** Non-secret settings, shown by the API: name -> pattern (a value must match). */
  readonly settings: Readonly<Record<string, { readonly required: boolean; readonly pattern: RegExp }>>;
  /** Secret fields, sealed at rest and never shown: name -> required. */
  readonly credentials: Readonly<Record<string, { readonly required: boolean; readonly pattern: RegExp }>>;
}

const HTTP_URL = /^https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?$/;
const TOKEN = /^[\x21-\x7E]{8,1024}$/;
/** An AWS region name: `eu-west-1`, `us-gov-west-1`, `ap-southeast-5`. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** The providers a tenant can configure, and what each needs. */
export const TENANT_PROVIDERS: Readonly<Record<string, ProviderSpec>> = {
  smtp: {
    channel: 'email',
    settings: {},
    // The whole URL is secret: it carries the password.
    credentials: { url: { required: true, pattern: /^smtps?:\/\/[^\s]{3,1000}$/ } },
  },
  sendgrid: {
    channel: 'email',
    settings: {
      apiUrl: { required: false, pattern: HTTP_URL },
      /** The Signed Event Webhook's public key (base64 DER): public, so a setting. */
      webhookPublicKey: { required: false, pattern: /^[A-Za-z0-9+/=\s-]{40,2000}$/ },
    },
    credentials: { apiKey: { required: true, pattern: TOKEN } },
  },
  /** SmartEmailing API v3: HTTP Basic with the account's login and API key (docs/channels/smartemailing.md). */
  smartemailing: {
    channel: 'email',
    settings: {
      username: { required: true, pattern: /^[^\s@:]{1,200}@[^\s@:]{1,200}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: { apiKey: { required: true, pattern: TOKEN } },
  },
  ses: {
    channel: 'email',
    settings: {
      /** The AWS region of the SES account (`eu-west-1`): SigV4 scope and endpoint. */
      region: { required: true, pattern: AWS_REGION },
      apiUrl: { required: false, pattern: HTTP_URL },
      configurationSetName: { required: false, pattern: /^[A-Za-z0-9_-]{1,64}$/ },
    },
    credentials: {
      accessKeyId: { required: true, pattern: /^[A-Z0-9]{16,128}$/ },
      secretAccessKey: { required: true, pattern: /^[A-Za-z0-9/+=]{16,128}$/ },
    },
  },
  'whatsapp-cloud': {
    channel: 'whatsapp',
    settings: {
      phoneNumberId: { required: true, pattern: /^\d{5,30}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: {
      accessToken: { required: true, pattern: TOKEN },
      /** Checks X-Hub-Signature-256 of the status webhooks. */
      appSecret: { required: false, pattern: TOKEN },
      verifyToken: { required: false, pattern: TOKEN },
    },
  },
  telegram: {
    channel: 'telegram',
    settings: {
      botUsername: { required: false, pattern: /^[A-Za-z][A-Za-z0-9_]{3,31}[Bb][Oo][Tt]$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: {
      botToken: { required: true, pattern: /^\d{3,20}:[A-Za-z0-9_-]{20,100}$/ },
      /** setWebhook's secret_token, checked on every update. */
      webhookSecret: { required: false, pattern: /^[A-Za-z0-9_-]{16,256}$/ },
    },
  },
  // Calendar invitations: an event in the tenant's calendar with the customer as attendee (docs/channels/calendar.md).
  'google-calendar': {
    channel: 'calendar',
    settings: {
      /** The calendar the events go to: `primary`, an address or `…@group.calendar.google.com`. */
      calendarId: { required: true, pattern: /^(primary|[^\s@/?#]{1,200}@[a-z0-9.-]{1,190})$/ },
      /** The service account's client_email. */
      clientEmail: { required: true, pattern: /^[^\s@]{1,64}@[a-z0-9.-]{1,190}$/ },
      /** The Workspace user the service account acts for (domain-wide delegation): the invitations' organizer. */
      subject: { required: false, pattern: /^[^\s@]{1,64}@[a-z0-9.-]{1,190}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
      /** The key file's token_uri. */
      tokenUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: {
      privateKey: {
        required: true,
        pattern: /^-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\s\\n]{100,4000}-----END PRIVATE KEY-----(\s|\\n)*$/,
      },
    },
  },
  outlook: {
    channel: 'calendar',
    settings: {
      /** The Entra ID tenant: a GUID or a domain. */
      tenantId: {
        required: true,
        pattern: /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9.-]{3,190})$/i,
      },
      /** The app registration's client (application) id. */
      clientId: { required: true, pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i },
      /** The organizer's mailbox: its user principal name or object id. */
      userId: {
        required: true,
        pattern: /^([^\s@/?#]{1,64}@[a-z0-9.-]{1,190}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
      },
      apiUrl: { required: false, pattern: HTTP_URL },
      /** Default https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token (national clouds: their own). */
      tokenUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: { clientSecret: { required: true, pattern: TOKEN } },
  },
  fcm: {
    channel: 'push',
    settings: {
      /** The Firebase project id. */
      projectId: { required: true, pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/ },
      /** The service account's client_email (not secret: it names the account, the key proves it). */
      clientEmail: { required: true, pattern: /^[^\s@]{1,64}@[a-z0-9.-]{1,190}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
      /** The key file's token_uri. */
      tokenUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: {
      /** The service account's private_key: a PKCS#8 PEM. */
      privateKey: {
        required: true,
        pattern: /^-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\s\\n]{100,4000}-----END PRIVATE KEY-----(\s|\\n)*$/,
      },
    },
  },
  pusher: {
    channel: 'realtime',
    settings: {
      appId: { required: true, pattern: /^\d{1,20}$/ },
      /** The app key: public (browsers subscribe with it). */
      key: { required: true, pattern: /^[A-Za-z0-9]{8,64}$/ },
      cluster: { required: true, pattern: /^[a-z0-9-]{2,20}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
      eventName: { required: false, pattern: /^[A-Za-z0-9_\-=@,.;]{1,200}$/ },
    },
    credentials: { secret: { required: true, pattern: /^[A-Za-z0-9]{8,128}$/ } },
  },
  // Staff chat: the incoming webhook URL is the whole credential (it carries its own secret).
  slack: {
    channel: 'staff-chat',
    settings: {},
    credentials: { webhookUrl: { required: true, pattern: /^https?:\/\/[^\s]{8,2000}$/ } },
  },
  teams: {
    channel: 'staff-chat',
    settings: {},
    credentials: { webhookUrl: { required: true, pattern: /^https?:\/\/[^\s]{8,2000}$/ } },
  },
  discord: {
    channel: 'staff-chat',
    settings: {},
    credentials: { webhookUrl: { required: true, pattern: /^https?:\/\/[^\s]{8,2000}$/ } },
  },
  // CRM: the "delivery" is an event or tag on the customer's contact, which the tenant's own automation turns into a
  // message (docs/channels/crm.md).
  hubspot: {
    channel: 'crm',
    settings: { apiUrl: { required: false, pattern: HTTP_URL } },
    /** A private app's access token with the analytics.behavioral_events.send scope. */
    credentials: { accessToken: { required: true, pattern: TOKEN } },
  },
  intercom: {
    channel: 'crm',
    settings: {
      apiUrl: { required: false, pattern: HTTP_URL },
      /** The Intercom-Version header (default 2.11). */
      apiVersion: { required: false, pattern: /^\d{1,2}\.\d{1,2}$/ },
    },
    credentials: { accessToken: { required: true, pattern: TOKEN } },
  },
  mailchimp: {
    channel: 'crm',
    settings: {
      /** The audience (list) id the customers are members of. */
      listId: { required: true, pattern: /^[a-z0-9]{4,32}$/ },
      /** Default https://<dc>.api.mailchimp.com/3.0, the data centre taken from the API key's suffix. */
      apiUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: { apiKey: { required: true, pattern: /^[0-9a-f]{32}-[a-z]{2,4}\d{1,3}$/ } },
  },
  activecampaign: {
    channel: 'crm',
    settings: {
      /** The account id of event tracking (Website → Site Tracking → Event Tracking). */
      actid: { required: true, pattern: /^\d{1,20}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: { eventKey: { required: true, pattern: /^[A-Za-z0-9]{8,128}$/ } },
  },
  salesforce: {
    channel: 'crm',
    settings: {
      /** The org's instance URL, https://<domain>.my.salesforce.com. */
      instanceUrl: { required: true, pattern: HTTP_URL },
      apiVersion: { required: false, pattern: /^v\d{2}\.\d$/ },
    },
    credentials: { accessToken: { required: true, pattern: TOKEN } },
  },
  // Meeting: registers the customer for the online meeting the workflow names (docs/channels/meeting.md).
  /** Zoom Server-to-Server OAuth app: account id (setting), client id and secret (credentials). */
  zoom: {
    channel: 'meeting',
    settings: {
      accountId: { required: true, pattern: /^[A-Za-z0-9_-]{8,64}$/ },
      apiUrl: { required: false, pattern: HTTP_URL },
      /** Default https://zoom.us/oauth/token. */
      tokenUrl: { required: false, pattern: HTTP_URL },
    },
    credentials: {
      clientId: { required: true, pattern: /^[A-Za-z0-9_-]{8,128}$/ },
      clientSecret: { required: true, pattern: TOKEN },
    },
  },
  /** Webex: a bot's or integration's access token with meeting:schedules_write. */
  webex: {
    channel: 'meeting',
    settings: { apiUrl: { required: false, pattern: HTTP_URL } },
    credentials: { accessToken: { required: true, pattern: TOKEN } },
  },
};

export const MAX_PROVIDERS_PER_CHANNEL = 3;

/** Credentials as the event store keeps them: sealed, with the names they hold and a keyed fingerprint. */
export interface SealedCredentials {
  /** Format version of the seal (1: AES-256-GCM, 96-bit IV, AAD = tenant|channel|provider). */
  readonly v: 1;
  /** Which key sealed it (a hash prefix of the key, not the key): tells a rotation which key to use. */
  readonly keyId: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}

export interface ConfiguredProvider {
  readonly provider: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly credentialNames: readonly string[];
  /** HMAC of the credentials under a key derived from the encryption key: equal credentials, equal fingerprint. */
  readonly fingerprint: string;
  readonly sealed: SealedCredentials;
}

export interface ChannelConfiguration {
  readonly channel: Channel;
  readonly providers: readonly ConfiguredProvider[];
  readonly configuredAt: string;
  readonly by: string;
}

export type ChannelConfigurationState = {
  readonly tenantId?: string;
  readonly channels: Partial<Readonly<Record<Channel, ChannelConfiguration>>>;
};

export type ConfigureChannel = Command<
  'ConfigureChannel',
  {
    readonly tenantId: string;
    readonly channel: Channel;
    readonly providers: readonly ConfiguredProvider[];
    readonly at: string;
    readonly by: string;
  }
>;
export type RemoveChannelConfiguration = Command<
  'RemoveChannelConfiguration',
  { readonly tenantId: string; readonly channel: Channel; readonly at: string; readonly by: string }
>;
export type ChannelConfigurationCommand = ConfigureChannel | RemoveChannelConfiguration;

export type ChannelConfigured = DomainEvent<'ChannelConfigured', ConfigureChannel['data']>;
export type ChannelConfigurationRemoved = DomainEvent<
  'ChannelConfigurationRemoved',
  RemoveChannelConfiguration['data']
>;
export type ChannelConfigurationEvent = ChannelConfigured | ChannelConfigurationRemoved;

export const CHANNEL_CONFIGURATION_EVENT_TYPES: readonly ChannelConfigurationEvent['type'][] = [
  'ChannelConfigured',
  'ChannelConfigurationRemoved',
];

function invalid(field: string, message: string): ValidationError {
  return new ValidationError('invalid-channel-configuration', message, { field });
}

/** Checks the provider list's shape (settings and credential names, never credential values: they are sealed). */
export function validateProviders(channel: Channel, providers: readonly ConfiguredProvider[]): void {
  if (!Array.isArray(providers) || providers.length === 0 || providers.length > MAX_PROVIDERS_PER_CHANNEL) {
    throw invalid('providers', `List 1 to ${MAX_PROVIDERS_PER_CHANNEL} providers, the first first.`);
  }
  const seen = new Set<string>();
  for (const [index, p] of providers.entries()) {
    const field = `providers.${index}`;
    const spec = TENANT_PROVIDERS[p.provider];
    if (!spec) throw invalid(`${field}.provider`, `Unknown provider ${String(p.provider)}.`);
    if (spec.channel !== channel)
      throw invalid(`${field}.provider`, `${p.provider} sends ${spec.channel}, not ${channel}.`);
    if (seen.has(p.provider)) throw invalid(`${field}.provider`, `${p.provider} is listed twice.`);
    seen.add(p.provider);
    validateSettings(field, spec, p.settings);
    for (const name of p.credentialNames) {
      if (!(name in spec.credentials))
        throw invalid(`${field}.credentials.${name}`, `${p.provider} has no credential ${name}.`);
    }
    for (const [name, rule] of Object.entries(spec.credentials)) {
      if (rule.required && !p.credentialNames.includes(name)) {
        throw invalid(`${field}.credentials.${name}`, `${p.provider} needs the credential ${name}.`);
      }
    }
    requireText(p.fingerprint, `${field}.fingerprint`);
    if (p.sealed?.v !== 1) throw invalid(`${field}.credentials`, 'The credentials are not sealed.');
  }
}

export function validateSettings(field: string, spec: ProviderSpec, settings: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(settings ?? {})) {
    const rule = spec.settings[name];
    if (!rule) throw invalid(`${field}.settings.${name}`, `Unknown setting ${name}.`);
    if (typeof value !== 'string' || !rule.pattern.test(value))
      throw invalid(`${field}.settings.${name}`, `Invalid ${name}.`);
  }
  for (const [name, rule] of Object.entries(spec.settings)) {
    if (rule.required && settings?.[name] === undefined)
      throw invalid(`${field}.settings.${name}`, `${name} is required.`);
  }
}

/** The same configuration: providers, settings and credential fingerprints (not the seal, whose IV is random). */
function sameProviders(a: readonly ConfiguredProvider[], b: readonly ConfiguredProvider[]): boolean {
  const key = (p: ConfiguredProvider) =>
    JSON.stringify([p.provider, Object.entries(p.settings).sort(), [...p.credentialNames].sort(), p.fingerprint]);
  return a.length === b.length && a.every((p, i) => key(p) === key(b[i]!));
}

export function decideChannelConfiguration(
  command: ChannelConfigurationCommand,
  state: ChannelConfigurationState,
): ChannelConfigurationEvent[] {
  const { tenantId, channel, at, by } = command.data;
  requireText(tenantId, 'tenantId');
  requireText(by, 'by');
  parseInstant(at, 'at');
  if (!isChannel(channel)) throw invalid('channel', `channel must be one of ${CHANNELS.join(', ')}.`);
  const current = state.channels[channel];
  switch (command.type) {
    case 'ConfigureChannel': {
      validateProviders(channel, command.data.providers);
      if (current && sameProviders(current.providers, command.data.providers)) return [];
      return [{ type: 'ChannelConfigured', data: command.data }];
    }
    case 'RemoveChannelConfiguration':
      if (!current) return [];
      return [{ type: 'ChannelConfigurationRemoved', data: { tenantId, channel, at, by } }];
  }
}

export function evolveChannelConfiguration(
  state: ChannelConfigurationState,
  event: ChannelConfigurationEvent,
): ChannelConfigurationState {
  const channels = { ...state.channels };
  if (event.type === 'ChannelConfigured') {
    const { channel, providers, at, by } = event.data;
    channels[channel] = { channel, providers, configuredAt: at, by };
  } else {
    delete channels[event.data.channel];
  }
  return { tenantId: event.data.tenantId, channels };
}

export const channelConfigurationDecider: Decider<
  ChannelConfigurationCommand,
  ChannelConfigurationState,
  ChannelConfigurationEvent
> = {
  decide: decideChannelConfiguration,
  evolve: evolveChannelConfiguration,
  initialState: () => ({ channels: {} }),
};
