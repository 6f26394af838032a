import type { EventStore, NewEvent } from '../../application/ports/event-store.port.js';
import type { ChannelAdapter } from '../../application/ports/channel.port.js';
import { channelLabel, type DeliveryChannel, type HeraldMetrics } from './metrics.js';

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
