import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { emailSenderChannel, smsSenderChannel } from '../application/channels/sender-channels.js';
import type { ChannelAdapter } from '../application/ports/channel.port.js';
import type { Clock } from '../application/ports/clock.port.js';
import type { Channel } from '../domain/notification/index.js';
import type { EmailSender } from '../application/ports/email-sender.port.js';
import type { EventStore } from '../application/ports/event-store.port.js';
import type { LeaseStore } from '../application/ports/lease-store.port.js';
import type { Logger } from '../application/ports/logger.port.js';
import type { ReadModelStore } from '../application/ports/read-model-store.port.js';
import type { Scheduler } from '../application/ports/scheduler.port.js';
import type { SmsSender } from '../application/ports/sms-sender.port.js';
import { createAgendaScheduler } from '../infrastructure/agenda/agenda-scheduler.js';
import { createMongoAgendaBackend } from '../infrastructure/agenda/mongo-agenda-backend.js';
import { createSqliteAgendaBackend } from '../infrastructure/agenda/sqlite-agenda-backend.js';
import { parseKey256, type Config } from '../infrastructure/config.js';
import { createOutboxChannel } from '../infrastructure/channels/outbox-channel.js';
import { createSendGridEmailChannel } from '../infrastructure/channels/sendgrid-email-channel.js';
import { createSesEmailChannel } from '../infrastructure/channels/ses-email-channel.js';
import { createTelegramChannel } from '../infrastructure/channels/telegram-channel.js';
import { createWhatsAppCloudChannel } from '../infrastructure/channels/whatsapp-cloud-channel.js';
import { createOutboxEmailSender } from '../infrastructure/email/outbox-email-sender.js';
import { createSmtpEmailSender } from '../infrastructure/email/smtp-email-sender.js';
import { createEventStoreDbEventStore } from '../infrastructure/eventstoredb/eventstoredb-event-store.js';
import { createMongoLeaseStore } from '../infrastructure/mongodb/mongo-lease-store.js';
import { createMongoReadModelStore } from '../infrastructure/mongodb/mongo-read-model-store.js';
import { createOutboxSmsSender } from '../infrastructure/sms/outbox-sms-sender.js';
import { createTwilioSmsSender } from '../infrastructure/sms/twilio-sms-sender.js';
import { createSqliteEventStore } from '../infrastructure/sqlite/sqlite-event-store.js';
import { createSqliteLeaseStore } from '../infrastructure/sqlite/sqlite-lease-store.js';
import { createSqliteReadModelStore } from '../infrastructure/sqlite/sqlite-read-model-store.js';

export interface Adapters {
  readonly eventStore: EventStore;
  readonly readModels: ReadModelStore;
  readonly scheduler: Scheduler;
  readonly email: EmailSender;
  readonly sms: SmsSender;
  /** With INSTANCES=many: consumer leases and instance liveness, beside the scheduler's jobs. */
  readonly leases?: LeaseStore;
  /** Signs waitlist claim links: CLAIM_LINK_SECRET, or the one kept in DATA_DIR. Absent: one per process (tests). */
  readonly claimLinkSecret?: string;
  /**
   * The environment's providers per channel, first provider first (the later ones are failovers). `'sender'` stands
   * for `email` / `sms` above, so a test that swaps a sender swaps it in the list too. Absent channel: the sender.
   */
  readonly channels?: Partial<Record<Channel, readonly (ChannelAdapter | 'sender')[]>>;
  /**
   * Seals calendar feed addresses and provider tokens in the event store: CALENDAR_CREDENTIALS_KEY, or the key kept
   * in DATA_DIR/calendar-credentials.key. Absent: one per process (tests).
   */
  readonly calendarCredentialsKey?: string;
  /** What each port is backed by, for the start-up line and /health/ready. */
  readonly describe: Record<'eventStore' | 'readModels' | 'scheduler' | 'email' | 'sms', string> &
    Partial<Record<'whatsapp' | 'telegram', string>>;
  /**
   * The AES-256-GCM key of tenants' channel credentials: CHANNEL_CREDENTIALS_KEY, or the one kept in DATA_DIR.
   * Absent: one per process (tests).
   */
  readonly channelCredentialsKey?: Buffer;
  close(): Promise<void>;
}

/**
 * Picks each adapter by its own setting, so every combination runs: EventStoreDB if EVENTSTORE_URL, else SQLite;
 * MongoDB (read models and Agenda) if MONGODB_URL, else SQLite; SMTP if SMTP_URL, else the outbox; Twilio if its
 * three settings, else the outbox. With nothing set it is the embedded default and needs no server.
 */
export async function createAdapters(config: Config, logger: Logger, clock: Clock): Promise<Adapters> {
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];

  const eventStore = config.EVENTSTORE_URL
    ? createEventStoreDbEventStore({ connectionString: config.EVENTSTORE_URL, logger })
    : createSqliteEventStore({
        filename: join(dataDir, 'events.sqlite'),
        clock,
        onSyncError: (error) =>
          logger.error({ err: error.message }, 'event store WAL sync failed: appends refused until restart'),
        // Other processes' appends are only seen by looking: sooner when several instances share the file.
        ...(config.INSTANCES === 'many' ? { pollIntervalMs: 100 } : {}),
      });
  closers.push(() => eventStore.close());

  let readModels: ReadModelStore;
  let scheduler: Scheduler;
  let leases: LeaseStore | undefined;
  if (config.MONGODB_URL) {
    const client = new MongoClient(config.MONGODB_URL);
    await client.connect();
    const db = client.db(config.MONGODB_DATABASE);
    readModels = await createMongoReadModelStore({ db });
    scheduler = await createAgendaScheduler({ backend: createMongoAgendaBackend({ db }), logger, processEvery: 1_000 });
    if (config.INSTANCES === 'many') leases = createMongoLeaseStore({ db, clock });
    closers.push(() => client.close());
  } else {
    readModels = createSqliteReadModelStore({ filename: join(dataDir, 'read-models.sqlite') });
    scheduler = await createAgendaScheduler({
      backend: createSqliteAgendaBackend({ database: join(dataDir, 'agenda.sqlite') }),
      logger,
      processEvery: 1_000,
    });
    closers.push(() => readModels.close());
    if (config.INSTANCES === 'many') {
      const store = createSqliteLeaseStore({ filename: join(dataDir, 'agenda.sqlite'), clock });
      leases = store;
      closers.push(() => store.close());
    }
  }

  const outboxDir = join(dataDir, 'outbox');
  const email: EmailSender = config.SMTP_URL
    ? createSmtpEmailSender({ url: config.SMTP_URL, clock, logger })
    : createOutboxEmailSender({ dir: outboxDir, clock });
  closers.push(() => email.close());

  const sms: SmsSender =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM
      ? createTwilioSmsSender({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          from: config.TWILIO_FROM,
          ...(config.TWILIO_API_URL ? { apiUrl: config.TWILIO_API_URL } : {}),
          clock,
        })
      : createOutboxSmsSender({ dir: outboxDir, clock });
  closers.push(() => sms.close());

  // The environment's providers per channel ('sender' = the SMTP/outbox and Twilio/outbox transports above).
  const emailChannels: (ChannelAdapter | 'sender')[] = (config.EMAIL_PROVIDERS ?? ['smtp']).map((name) =>
    name === 'sendgrid'
      ? createSendGridEmailChannel({
          apiKey: config.SENDGRID_API_KEY!,
          ...(config.SENDGRID_API_URL ? { apiUrl: config.SENDGRID_API_URL } : {}),
          clock,
        })
      : name === 'ses'
        ? createSesEmailChannel({
            region: config.SES_REGION!,
            accessKeyId: config.SES_ACCESS_KEY_ID!,
            secretAccessKey: config.SES_SECRET_ACCESS_KEY!,
            ...(config.SES_API_URL ? { apiUrl: config.SES_API_URL } : {}),
            ...(config.SES_CONFIGURATION_SET ? { configurationSetName: config.SES_CONFIGURATION_SET } : {}),
            clock,
          })
        : 'sender',
  );
  for (const adapter of emailChannels) if (adapter !== 'sender') closers.push(() => adapter.close());
  const whatsapp: ChannelAdapter =
    config.WHATSAPP_ACCESS_TOKEN && config.WHATSAPP_PHONE_NUMBER_ID
      ? createWhatsAppCloudChannel({
          accessToken: config.WHATSAPP_ACCESS_TOKEN,
          phoneNumberId: config.WHATSAPP_PHONE_NUMBER_ID,
          ...(config.WHATSAPP_API_URL ? { apiUrl: config.WHATSAPP_API_URL } : {}),
          clock,
        })
      : createOutboxChannel({ channel: 'whatsapp', dir: outboxDir, clock });
  const telegram: ChannelAdapter = config.TELEGRAM_BOT_TOKEN
    ? createTelegramChannel({
        botToken: config.TELEGRAM_BOT_TOKEN,
        ...(config.TELEGRAM_API_URL ? { apiUrl: config.TELEGRAM_API_URL } : {}),
        clock,
      })
    : createOutboxChannel({ channel: 'telegram', dir: outboxDir, clock });

  return {
    eventStore,
    readModels,
    scheduler,
    email,
    sms,
    channels: { email: emailChannels, whatsapp: [whatsapp], telegram: [telegram] },
    channelCredentialsKey: config.CHANNEL_CREDENTIALS_KEY
      ? parseKey256(config.CHANNEL_CREDENTIALS_KEY)!
      : keptKey256(join(dataDir, 'channel-credentials.key')),
    ...(leases ? { leases } : {}),
    claimLinkSecret: config.CLAIM_LINK_SECRET ?? keptSecret(join(dataDir, 'claim-link.secret')),
    calendarCredentialsKey: config.CALENDAR_CREDENTIALS_KEY ?? keptSecret(join(dataDir, 'calendar-credentials.key')),
    describe: {
      eventStore: config.EVENTSTORE_URL ? 'eventstoredb' : `sqlite:${join(dataDir, 'events.sqlite')}`,
      readModels: config.MONGODB_URL ? 'mongodb' : `sqlite:${join(dataDir, 'read-models.sqlite')}`,
      scheduler: config.MONGODB_URL ? 'agenda:mongodb' : `agenda:sqlite:${join(dataDir, 'agenda.sqlite')}`,
      email: config.SMTP_URL ? 'smtp' : `outbox:${join(outboxDir, 'email')}`,
      sms: config.TWILIO_ACCOUNT_SID ? 'twilio' : `outbox:${join(outboxDir, 'sms')}`,
      whatsapp: whatsapp.provider === 'outbox' ? `outbox:${join(outboxDir, 'whatsapp')}` : whatsapp.provider,
      telegram: telegram.provider === 'outbox' ? `outbox:${join(outboxDir, 'telegram')}` : telegram.provider,
    },
    async close() {
      await scheduler.stop();
      for (const close of closers.reverse()) {
        await close().catch((error: unknown) => logger.warn({ err: String(error) }, 'closing an adapter failed'));
      }
    },
  };
}

/** The global providers of every channel, as the dispatcher's directory needs them. */
export function defaultChannelProviders(adapters: Adapters): Partial<Record<Channel, readonly ChannelAdapter[]>> {
  const email = emailSenderChannel(adapters.email);
  const sms = smsSenderChannel(adapters.sms);
  const resolve = (channel: Channel, sender: ChannelAdapter) =>
    (adapters.channels?.[channel] ?? ['sender']).map((p) => (p === 'sender' ? sender : p));
  const result: Partial<Record<Channel, readonly ChannelAdapter[]>> = {
    email: resolve('email', email),
    sms: resolve('sms', sms),
  };
  for (const [channel, list] of Object.entries(adapters.channels ?? {}) as [Channel, (ChannelAdapter | 'sender')[]][]) {
    if (channel !== 'email' && channel !== 'sms')
      (result as Record<string, readonly ChannelAdapter[]>)[channel] = list.filter((p) => p !== 'sender');
  }
  return result;
}

/** A secret generated once and kept in a file (mode 0600): it must be backed up with the data directory. */
function keptSecret(file: string): string {
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * A 256-bit key generated once and kept in a file (mode 0600). Unlike the claim-link secret it is never replaced:
 * a lost or damaged key makes the credentials encrypted with it unreadable, so a damaged file stops the start.
 */
function keptKey256(file: string): Buffer {
  if (existsSync(file)) {
    const key = parseKey256(readFileSync(file, 'utf8').trim());
    if (!key) throw new Error(`${file} does not hold a 256-bit key (restore it from the backup of DATA_DIR)`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
