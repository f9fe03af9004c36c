import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DATABASES, onCleanup, startShop } from './helpers.ts';

/** Debian's Chromium; install it with `apt-get install -y chromium` (never `playwright install`). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// A developer machine without Chromium skips this one test, visibly; CI installs Chromium
// (.ci/run) and sets CI, so there it always runs and a missing browser fails it.
const noBrowser = !existsSync(CHROMIUM) && !process.env.CI;

for (const { name, fresh } of DATABASES) {
  describe.skipIf(noBrowser)(
    `the page in headless Chromium on ${name} (skipped without Chromium outside CI)`,
    () => {
      it('places an order by clicking Buy, shows it live until fulfilled step by step, then confirms its delivery', async () => {
        const shop = await startShop({ ...(await fresh()), faults: { latencyMs: 150 } });
        const browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-quic',
            '--no-first-run',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
        onCleanup(() => browser.close());
        const page = await browser.newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));

        await page.goto(shop.base);
        await page.locator('[data-product="mug"] button.buy').click();

        const row = page.locator('#orders tbody tr').first();
        await row.locator('.status.fulfilled').waitFor({ timeout: 20_000 });
        for (const step of ['payment', 'inventory', 'shipping']) {
          await expect(
            row.locator('.step.success', { hasText: `${step}: success` }).count(),
          ).resolves.toBe(1);
        }
        await page.locator('[data-product="mug"] .stock', { hasText: '999 in stock' }).waitFor();
        await page.locator('#audit .ok').waitFor();

        // Pattern 6: the delivery waits (suspended) for the customer's click.
        await row
          .locator('.delivery.waiting', { hasText: 'Delivery: waiting for confirmation' })
          .waitFor({ timeout: 20_000 });
        await row.locator('button.confirm-delivery').click();
        await row
          .locator('.delivery.delivered', { hasText: 'Delivery: delivered (customer)' })
          .waitFor({ timeout: 20_000 });
        await expect(row.locator('button.confirm-delivery').count()).resolves.toBe(0);

        // The fault switches reach the server.
        await page.locator('input[name="declineRate"]').fill('1');
        await expect.poll(() => shop.deps.faults.declineRate).toBe(1);
        expect(pageErrors).toEqual([]);
      });
    },
  );
}
