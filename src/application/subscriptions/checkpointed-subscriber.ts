import { createConsumerHub, type EventConsumer, type RunningSubscriber, type SubscriberDeps } from './consumer-hub.js';

export {
  CHECKPOINTS,
  describe,
  loadCheckpoint,
  type EventConsumer,
  type RunningSubscriber,
  type SubscriberDeps,
} from './consumer-hub.js';

/**
 * Runs one consumer from its stored checkpoint: catch-up, then live. A handler error is logged and retried with
 * backoff (the consumer never skips an event); the checkpoint is stored after handling, so a crash redelivers
 * at most the events since the last store. Herald runs all its consumers in one hub (consumer-hub.ts); this is the
 * same machinery for one.
 */
export async function startSubscriber(deps: SubscriberDeps, consumer: EventConsumer): Promise<RunningSubscriber> {
  const hub = createConsumerHub(deps, [consumer]);
  await hub.start();
  const lane = hub.running()[0]!;
  return {
    name: consumer.name,
    position: () => lane.position(),
    waitFor: (position, timeoutMs) => lane.waitFor(position, timeoutMs),
    stop: () => hub.stop(),
  };
}
