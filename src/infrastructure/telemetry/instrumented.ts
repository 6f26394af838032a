import type { EmailMessage, EmailSender, ProviderAcceptance } from '../../application/ports/email-sender.port.js';
import { DeliveryError } from '../../application/ports/email-sender.port.js';
import type { EventStore, NewEvent } from '../../application/ports/event-store.port.js';
import type { SmsMessage, SmsSender } from '../../application/ports/sms-sender.port.js';
import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import { channelLabel, type DeliveryChannel, type HeraldMetrics, type ProviderOutcome } from './metrics.js';

/**
 * Decorators of the ports that the composition root puts around the adapters, so the adapters and the application
 * know nothing about metrics.
 */

/** Deliveries whose channel is remembered (bounded: the oldest is forgotten first). */
const REMEMBERED_CHANNELS = 10_000;

const channelOfData = (data: { channel?: unknown }): DeliveryChannel | undefined => channelLabel(data.channel);

/**
 * Appends are counted (deliveries by channel and status, dead letters, credits) after they succeed. A delivery step
 * after the request carries no channel: it comes from the `NotificationRequested` this process appended (a bounded
 * map), else from the `NotificationRequested` at the start of the stream just appended to (read once, then
 * remembered), else `unknown`. Counting never delays or fails the append.
 */
export function instrumentEventStore(inner: EventStore, deps: { readonly metrics: HeraldMetrics }): EventStore {
  const channels = new Map<string, DeliveryChannel>();
  const remember = (notificationId: string, channel: DeliveryChannel) => {
    channels.delete(notificationId);
    channels.set(notificationId, channel);
    if (channels.size > REMEMBERED_CHANNELS) channels.delete(channels.keys().next().value as string);
  };
  const count = async (streamName: string, events: readonly NewEvent[]) => {
    for (const event of events) {
      if (!event.type.startsWith('Notification')) continue;
      const data = event.data as { channel?: unknown; notificationId?: unknown };
      if (typeof data.notificationId !== 'string') continue;
      const channel = channelOfData(data);
      if (channel) remember(data.notificationId, channel);
      else if (!channels.has(data.notificationId)) {
        const stream = await inner.readStream(streamName);
        const requested = stream.events.find((recorded) => recorded.type === 'NotificationRequested');
        const found = requested ? channelOfData(requested.data as { channel?: unknown }) : undefined;
        if (found) remember(data.notificationId, found);
      }
    }
    deps.metrics.observeAppended(events, (id) => channels.get(id) ?? 'unknown');
  };
  return {
    appendToStream: async (streamName, events, expectedRevision) => {
      const result = await inner.appendToStream(streamName, events, expectedRevision);
      void count(streamName, events).catch(() => deps.metrics.observeAppended(events, () => 'unknown'));
      return result;
    },
    readStream: (streamName) => inner.readStream(streamName),
    readAll: (options) => inner.readAll(options),
    headPosition: () => inner.headPosition(),
    subscribeToAll: (options) => inner.subscribeToAll(options),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

function outcomeOf(error: unknown): ProviderOutcome {
  if (error instanceof DeliveryError) return error.transient ? 'retryable' : 'permanent';
  return 'error';
}

async function observed(
  channel: 'email' | 'sms',
  provider: string,
  metrics: HeraldMetrics,
  send: () => Promise<ProviderAcceptance>,
): Promise<ProviderAcceptance> {
  const started = performance.now();
  try {
    const accepted = await send();
    metrics.observeProviderCall(channel, provider, 'accepted', (performance.now() - started) / 1000);
    return accepted;
  } catch (error) {
    metrics.observeProviderCall(channel, provider, outcomeOf(error), (performance.now() - started) / 1000);
    throw error;
  }
}

export function instrumentEmailSender(inner: EmailSender, deps: { readonly metrics: HeraldMetrics }): EmailSender {
  return {
    channel: 'email',
    ...(inner.provider !== undefined ? { provider: inner.provider } : {}),
    send: (message: EmailMessage) =>
      observed('email', inner.provider ?? 'email', deps.metrics, () => inner.send(message)),
    close: () => inner.close(),
  };
}

export function instrumentSmsSender(inner: SmsSender, deps: { readonly metrics: HeraldMetrics }): SmsSender {
  return {
    channel: 'sms',
    ...(inner.provider !== undefined ? { provider: inner.provider } : {}),
    send: (message: SmsMessage) => observed('sms', inner.provider ?? 'sms', deps.metrics, () => inner.send(message)),
    findSent: (to, since) => inner.findSent(to, since),
    close: () => inner.close(),
  };
}

/**
 * Any channel's adapter (WhatsApp, Telegram, staff chat, SendGrid, a tenant's own providers): each send's latency
 * and outcome by channel and provider. An adapter answers with an outcome; a throw (a bug) is `error`.
 */
export function instrumentChannelAdapter(
  inner: ChannelAdapter,
  deps: { readonly metrics: HeraldMetrics },
): ChannelAdapter {
  return {
    ...inner,
    send: async (message) => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const outcome = await inner.send(message);
        deps.metrics.observeProviderCall(inner.channel, inner.provider, outcome.outcome, seconds());
        return outcome;
      } catch (error) {
        deps.metrics.observeProviderCall(inner.channel, inner.provider, 'error', seconds());
        throw error;
      }
    },
    close: () => inner.close(),
  };
}
