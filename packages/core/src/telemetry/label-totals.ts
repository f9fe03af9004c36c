import type { Attributes } from '@opentelemetry/api';

/**
 * Running totals per label set, for the observable counters of {@link OtelMetrics}: counting a
 * job costs one Map lookup and an addition, not an SDK `Counter.add` (which hashes the
 * attributes on every call). A collection reads every total once. Label sets are few (one per
 * function, times outcomes), so the map stays small; each keeps one attributes object for
 * its whole life.
 */
export class LabelTotals {
  readonly #totals = new Map<string, { attributes: Attributes; value: number }>();

  /** Adds `count` to the total of the label set `key`; `attributes` is called on first use. */
  add(key: string, count: number, attributes: () => Attributes): void {
    const total = this.#totals.get(key);
    if (total !== undefined) total.value += count;
    else this.#totals.set(key, { attributes: Object.freeze(attributes()), value: count });
  }

  /** Every label set's total, as an observable counter reports it (cumulative). */
  forEach(observe: (value: number, attributes: Attributes) => void): void {
    for (const { attributes, value } of this.#totals.values()) observe(value, attributes);
  }
}

/**
 * One frozen attributes object per label set, so recording a histogram value allocates
 * nothing per job. Label sets are bounded by the registered functions and outcomes.
 */
export class AttributeCache {
  readonly #cache = new Map<string, Attributes>();

  get(key: string, attributes: () => Attributes): Attributes {
    let cached = this.#cache.get(key);
    if (cached === undefined) {
      cached = Object.freeze(attributes());
      this.#cache.set(key, cached);
    }
    return cached;
  }
}
