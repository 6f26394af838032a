export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface Health {
  ready(): Promise<ReadinessReport>;
}

/** Ready = every store answers and every subscriber has caught up with the head of the log seen at the call. */
export function createHealth(deps: {
  checks: Record<string, () => Promise<void>>;
  headPosition: () => Promise<bigint>;
  subscribers: () => readonly { name: string; position(): bigint }[];
}): Health {
  return {
    async ready() {
      const checks: ReadinessReport['checks'] = {};
      for (const [name, check] of Object.entries(deps.checks)) {
        try {
          await check();
          checks[name] = { ok: true };
        } catch (error) {
          checks[name] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
        }
      }
      if (Object.values(checks).every((c) => c.ok)) {
        const head = await deps.headPosition();
        const behind = deps.subscribers().filter((s) => s.position() < head);
        checks.subscriptions =
          behind.length === 0
            ? { ok: true }
            : {
                ok: false,
                detail: `behind the head (${head}): ${behind.map((s) => `${s.name}@${s.position()}`).join(', ')}`,
              };
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
}
