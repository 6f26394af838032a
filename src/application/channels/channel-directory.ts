import type { Channel } from '../../domain/notification/index.js';
import type { ChannelAdapter, ChannelDirectory } from '../ports/channel.port.js';

/** The same providers for every tenant: the ones configured by the environment. */
export function staticChannelDirectory(
  providers: Partial<Record<Channel, readonly ChannelAdapter[]>>,
): ChannelDirectory {
  return {
    async providersFor(_tenantId, channel) {
      return providers[channel] ?? [];
    },
  };
}
