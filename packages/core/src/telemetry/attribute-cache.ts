import type { Attributes } from '@opentelemetry/api';

/**
 * One frozen attributes object per label set, so recording a counter or histogram value
 * allocates nothing per job (these calls run for every attempt with an SDK registered).
 * Label sets are bounded by the registered functions and the fixed outcomes.
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
