import { currentJob, NonRetryableError, type Reseolio, reportProgress } from 'reseolio';
import type { ShopDeps } from '../deps.ts';

/** The renditions every product photo gets, in pixels. */
export const IMAGE_SIZES = [96, 320, 960] as const;

/**
 * Pattern 4, fan-out: one job per size runs in parallel on any worker; the parent waits for
 * all of them (without holding a worker slot while it waits) and reports per size. Pattern 8:
 * the parent reports how many renditions are done as its progress.
 */
export function registerProductImages(reseolio: Reseolio, { repo, images }: ShopDeps) {
  const resizeImage = reseolio.durable(
    reseolio.namespace('catalog', 'images', 'resize'),
    async (productId: string, size: number) => {
      const product = await repo.getProduct(productId);
      if (!product) throw new NonRetryableError(`product ${productId} does not exist`);
      const svg = await images.resize(product, size, currentJob()?.signal);
      await repo.saveImage({ productId, size, svg, createdAt: Date.now() });
      return { size, url: `/images/${productId}/${size}.svg` };
    },
    {
      maxAttempts: 5,
      initialDelayMs: 250,
      maxDelayMs: 2_000,
      timeoutMs: 15_000,
      // Pattern 7, flow control, counted across every shop process: at most 2 renditions of
      // one product at a time (a product's photo is read once per rendition), and the image
      // service's quota of 10 starts a second in all. Jobs over a limit wait, none is dropped;
      // one product with many photos never holds back another's.
      concurrency: { limit: 2, key: (productId) => productId },
      rateLimit: { limit: 10, periodMs: 1_000 },
    },
  );

  const processProductImages = reseolio.durable(
    reseolio.namespace('catalog', 'images', 'process'),
    async (productId: string) => {
      const handles = await Promise.all(
        IMAGE_SIZES.map((size) =>
          resizeImage(productId, size, { idempotencyKey: `image-${productId}-${size}` }),
        ),
      );
      // Progress for the page: renditions finished so far (coalesced; the page polls it).
      let done = 0;
      const results = await Promise.allSettled(
        handles.map((handle) =>
          handle.result(60_000).finally(() => {
            done += 1;
            void reportProgress({ done, total: IMAGE_SIZES.length });
          }),
        ),
      );
      return {
        succeeded: results.filter((r) => r.status === 'fulfilled').length,
        failed: results.filter((r) => r.status === 'rejected').length,
        renditions: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      };
    },
    { timeoutMs: 120_000 },
  );

  return { resizeImage, processProductImages };
}
