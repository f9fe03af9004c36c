import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_LAUNCH, noChromium } from '@reseolio/test-utils';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DATABASES, declinedCheckout, onCleanup, settledSagaPage, startShop } from './helpers.ts';

/** Screenshots of the dashboard's saga page, kept as test artifacts (gitignored). */
const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');

async function launch() {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  onCleanup(() => browser.close());
  return browser;
}

for (const { name, fresh } of DATABASES) {
  describe.skipIf(noChromium)(
    `the page in headless Chromium on ${name} (skipped without Chromium outside CI)`,
    () => {
      it('places an order by clicking Buy, shows it live until fulfilled step by step, then confirms its delivery', async () => {
        const shop = await startShop({ ...(await fresh()), faults: { latencyMs: 150 } });
        const browser = await launch();
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

      it("shows a declined checkout's saga in the dashboard: the orchestrator, its five children with the compensation, and attempts", async () => {
        const shop = await startShop(await fresh());
        const order = await declinedCheckout(shop);
        expect(order.status).toBe('cancelled');
        expect((await settledSagaPage(shop, order.sagaJobId)).children).toHaveLength(5);

        const browser = await launch();
        const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await page.goto(`${shop.base}/dashboard/#/jobs/${order.sagaJobId}`);
        const tree = page.getByRole('navigation', { name: 'Parent and children' });
        for (const child of [
          'checkout:payment:charge',
          'checkout:inventory:release',
          'checkout:payment:refund',
          'checkout:email:cancellation',
          'webhooks:order:deliver',
        ]) {
          await tree.locator(`[data-tree-job="${child}"]`).waitFor({ timeout: 20_000 });
        }
        await page.locator('tr[data-attempt="1"]').first().waitFor();
        const dir = join(ARTIFACTS, name.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
        mkdirSync(dir, { recursive: true });
        const path = join(dir, 'dashboard-saga.png');
        await page.screenshot({ path, fullPage: true });
        console.log(`screenshot: ${path}`);

        // The compensation's failed step: its page shows the failed attempt and its error.
        await tree.locator('[data-tree-job="checkout:payment:charge"]').click();
        await page.getByText('card ending 0002 was declined').first().waitFor();
        await page.screenshot({ path: join(dir, 'dashboard-charge.png'), fullPage: true });
        expect(pageErrors).toEqual([]);
      });
    },
  );
}
