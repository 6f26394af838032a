import {
  channelConfigurationDecider,
  CHANNELS,
  TENANT_PROVIDERS,
  type Channel,
  type ChannelConfiguration,
  type ConfiguredProvider,
} from '../../domain/notification/index.js';
import { compoundStreamName } from '../../domain/catalog/stream-name.js';
import { ValidationError } from '../../domain/shared/errors.js';
import { handleCommand, loadAggregate, type CommandContext, type CommandHandlerDeps } from '../command-handler.js';
import type { ChannelAdapter, ChannelDirectory } from '../ports/channel.port.js';
import type { Clock } from '../ports/clock.port.js';
import type { CredentialCipher } from '../ports/credential-cipher.port.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';

/** `channels-<tenant>+providers`: the tenant's providers per channel, with sealed credentials. */
export const channelConfigurationStreamName = (tenantId: string) =>
  compoundStreamName('channels', tenantId, 'providers');

/** What the AAD and the fingerprint bind sealed credentials to. */
export const credentialContext = (tenantId: string, channel: Channel, provider: string) =>
  `${tenantId}|${channel}|${provider}`;

export interface ProviderInput {
  readonly provider: string;
  readonly settings?: Readonly<Record<string, string>>;
  readonly credentials: Readonly<Record<string, string>>;
}

export interface ChannelConfigurationDeps extends CommandHandlerDeps {
  readonly clock: Clock;
  readonly cipher: CredentialCipher;
}

/** A provider as the API shows it: settings and the names of the credentials it holds, never their values. */
export interface ProviderView {
  readonly provider: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly credentials: readonly string[];
}

export interface ChannelView {
  readonly channel: Channel;
  /** `tenant`: the tenant's own providers; `environment`: the deployment's (settings of the operator). */
  readonly source: 'tenant' | 'environment';
  readonly providers: readonly ProviderView[];
  readonly configuredAt: string | null;
}

/**
 * Seals the credentials (each value checked against the provider's pattern first: a value that cannot work is
 * refused here, with the field named and the value never echoed) and records the configuration.
 */
export async function configureChannel(
  deps: ChannelConfigurationDeps,
  context: CommandContext,
  channel: Channel,
  providers: readonly ProviderInput[],
): Promise<ChannelConfiguration | undefined> {
  const sealed: ConfiguredProvider[] = providers.map((input, index) => {
    const spec = TENANT_PROVIDERS[input.provider];
    const credentials = input.credentials ?? {};
    if (spec) {
      for (const [name, value] of Object.entries(credentials)) {
        const rule = spec.credentials[name];
        if (rule && (typeof value !== 'string' || !rule.pattern.test(value))) {
          throw new ValidationError('invalid-channel-configuration', `Invalid ${name} (the value is not shown).`, {
            field: `providers.${index}.credentials.${name}`,
          });
        }
      }
    }
    const where = credentialContext(context.tenantId, channel, input.provider);
    return {
      provider: input.provider,
      settings: { ...(input.settings ?? {}) },
      credentialNames: Object.keys(credentials).sort(),
      fingerprint: deps.cipher.fingerprint(credentials, where),
      sealed: deps.cipher.seal(credentials, where),
    };
  });
  const result = await handleCommand(
    deps,
    channelConfigurationStreamName(context.tenantId),
    channelConfigurationDecider,
    {
      type: 'ConfigureChannel',
      data: {
        tenantId: context.tenantId,
        channel,
        providers: sealed,
        at: deps.clock.now().toISOString(),
        by: context.actor,
      },
    },
    context,
  );
  return result.state.channels[channel];
}

export async function removeChannelConfiguration(
  deps: ChannelConfigurationDeps,
  context: CommandContext,
  channel: Channel,
): Promise<void> {
  await handleCommand(
    deps,
    channelConfigurationStreamName(context.tenantId),
    channelConfigurationDecider,
    {
      type: 'RemoveChannelConfiguration',
      data: { tenantId: context.tenantId, channel, at: deps.clock.now().toISOString(), by: context.actor },
    },
    context,
  );
}

export async function loadChannelConfiguration(eventStore: EventStore, tenantId: string) {
  return loadAggregate(eventStore, channelConfigurationStreamName(tenantId), channelConfigurationDecider);
}

/**
 * The tenant's own provider of a channel with its credentials opened (for a webhook route that checks a secret the
 * tenant configured); undefined when the tenant configured no such provider. Never logged.
 */
export async function openTenantProvider(
  eventStore: EventStore,
  cipher: CredentialCipher,
  tenantId: string,
  channel: Channel,
  provider: string,
): Promise<{ settings: Readonly<Record<string, string>>; credentials: Readonly<Record<string, string>> } | undefined> {
  const { state } = await loadChannelConfiguration(eventStore, tenantId);
  const configured = state.channels[channel]?.providers.find((p) => p.provider === provider);
  if (!configured) return undefined;
  try {
    return {
      settings: configured.settings,
      credentials: cipher.open(configured.sealed, credentialContext(tenantId, channel, provider)),
    };
  } catch {
    return undefined;
  }
}

/** Every channel: the tenant's providers where it configured some, else the environment's. */
export async function listChannels(
  eventStore: EventStore,
  tenantId: string,
  environment: Partial<Record<Channel, readonly ChannelAdapter[]>>,
): Promise<ChannelView[]> {
  const { state } = await loadChannelConfiguration(eventStore, tenantId);
  return CHANNELS.map((channel): ChannelView => {
    const own = state.channels[channel];
    if (own) {
      return {
        channel,
        source: 'tenant',
        providers: own.providers.map((p) => ({
          provider: p.provider,
          settings: p.settings,
          credentials: p.credentialNames,
        })),
        configuredAt: own.configuredAt,
      };
    }
    return {
      channel,
      source: 'environment',
      providers: (environment[channel] ?? []).map((a) => ({ provider: a.provider, settings: {}, credentials: [] })),
      configuredAt: null,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The dispatcher's directory

/** Builds an adapter of the channel port from a provider's settings and opened credentials (infrastructure). */
export type ChannelAdapterFactory = (
  provider: string,
  settings: Readonly<Record<string, string>>,
  credentials: Readonly<Record<string, string>>,
) => ChannelAdapter;

export interface TenantChannelDirectoryDeps {
  readonly eventStore: EventStore;
  readonly cipher: CredentialCipher;
  readonly factory: ChannelAdapterFactory;
  readonly environment: Partial<Record<Channel, readonly ChannelAdapter[]>>;
  readonly logger: Logger;
  /** How long a tenant's adapters are reused before the configuration stream is read again. Default 5 s. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/**
 * The tenant's own providers for a channel when it configured some, else the environment's. Adapters are built once
 * per configuration (keyed by the stream revision) and reused; the stream is read again after `ttlMs`, so a change
 * takes effect within seconds. Credentials are opened only here, in memory, and never logged.
 */
export function createTenantChannelDirectory(deps: TenantChannelDirectoryDeps): ChannelDirectory & {
  close(): Promise<void>;
} {
  const ttlMs = deps.ttlMs ?? 5_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<
    string,
    { checkedAt: number; revision: bigint | 'no_stream'; adapters: Partial<Record<Channel, ChannelAdapter[]>> }
  >();
  const retired: ChannelAdapter[] = [];

  const build = (tenantId: string, configuration: ChannelConfiguration): ChannelAdapter[] =>
    configuration.providers.flatMap((p) => {
      try {
        const credentials = deps.cipher.open(p.sealed, credentialContext(tenantId, configuration.channel, p.provider));
        return [deps.factory(p.provider, p.settings, credentials)];
      } catch (error) {
        // A seal that does not open (another key, a damaged event) leaves the provider out, loudly.
        deps.logger.error(
          { tenantId, channel: configuration.channel, provider: p.provider, err: (error as Error).message },
          'tenant channel credentials cannot be opened; provider left out',
        );
        return [];
      }
    });

  return {
    async providersFor(tenantId, channel) {
      let entry = cache.get(tenantId);
      if (!entry || now() - entry.checkedAt >= ttlMs) {
        const { state, revision } = await loadChannelConfiguration(deps.eventStore, tenantId);
        if (!entry || entry.revision !== revision) {
          if (entry) for (const list of Object.values(entry.adapters)) retired.push(...(list ?? []));
          const adapters: Partial<Record<Channel, ChannelAdapter[]>> = {};
          for (const configuration of Object.values(state.channels)) {
            if (configuration) adapters[configuration.channel] = build(tenantId, configuration);
          }
          entry = { checkedAt: now(), revision, adapters };
        } else {
          entry = { ...entry, checkedAt: now() };
        }
        cache.set(tenantId, entry);
      }
      return entry.adapters[channel] ?? deps.environment[channel] ?? [];
    },
    async close() {
      // Retired adapters are closed only now: a send may still have been using one when the configuration changed.
      for (const entry of cache.values())
        for (const list of Object.values(entry.adapters)) retired.push(...(list ?? []));
      cache.clear();
      await Promise.all(retired.splice(0).map((a) => a.close().catch(() => undefined)));
    },
  };
}
