/**
 * A small Prometheus registry: counters and histograms with labels, rendered as the text
 * exposition format at GET /metrics. No dependency; enough for what Tessera counts.
 */
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

export class Counter {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}) {
    return this.values.get(key(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram {
  readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: number[],
  ) {}
  observe(value: number, labels: Labels = {}) {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    this.bounds.forEach((b, i) => {
      if (value <= b) s.buckets[i]!++;
    });
    s.sum += value;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.bounds.forEach((b, i) => lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`));
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

export class Registry {
  readonly #metrics: Array<Counter | Histogram> = [];
  counter(name: string, help: string) {
    const c = new Counter(name, help);
    this.#metrics.push(c);
    return c;
  }
  histogram(name: string, help: string, bounds: number[]) {
    const h = new Histogram(name, help, bounds);
    this.#metrics.push(h);
    return h;
  }
  render(): string {
    return this.#metrics.map((m) => m.render()).join('\n') + '\n';
  }
}

/** Every metric Tessera exposes, created once per process. */
export function createMetrics() {
  const registry = new Registry();
  return {
    registry,
    hookCalls: registry.counter('tessera_payload_hook_calls_total', 'Payload hook answers by source and outcome (ok, cached, failed, short_circuited).'),
    hookFailures: registry.counter('tessera_payload_hook_failures_total', 'Payload hook failures by cause.'),
    hookLatency: registry.histogram('tessera_payload_hook_duration_seconds', 'Time spent calling a payload hook (cache hits excluded).', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
    claimRenames: registry.counter('tessera_claim_renames_total', 'Payload claims renamed to extra_<name> because the name was taken.'),
    claimDrops: registry.counter('tessera_claim_drops_total', 'Payload claims dropped because both the name and extra_<name> were taken.'),
    passwordChecks: registry.counter('tessera_password_checks_total', 'Sign-in passwords checked (outcome: match, mismatch), or refused unchecked because too many checks were waiting (busy).'),
    signalsQueued: registry.counter('tessera_ssf_events_queued_total', 'Shared Signals events written to the outbox by this instance, by event type (one per receiving stream).'),
    signalsDelivered: registry.counter('tessera_ssf_events_delivered_total', 'Shared Signals events a receiver accepted, by event type.'),
    signalsFailed: registry.counter('tessera_ssf_delivery_failures_total', 'Shared Signals pushes that failed (to be retried), by event type.'),
    signalsLag: registry.histogram('tessera_ssf_delivery_lag_seconds', 'From the change that caused an event to its receiver accepting it.', [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]),
    tokenBudgetExceeded: registry.counter('tessera_token_size_budget_exceeded_total', 'Tokens over TESSERA_MAX_TOKEN_BYTES.'),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
