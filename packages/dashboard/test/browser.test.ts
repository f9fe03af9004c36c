import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_LAUNCH, noChromium, waitFor } from '@reseolio/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { JobFailedError, type JobStatus, type Reseolio, waitForSignal } from 'reseolio';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  engineOn,
  PREFIX,
  postgresTarget,
  proxy,
  raw,
  serve,
  sqliteTarget,
  type Target,
} from './helpers.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

async function launch(): Promise<Browser> {
  const browser = await chromium.launch(CHROMIUM_LAUNCH);
  onTestFinished(() => browser.close());
  return browser;
}

async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // A Content-Security-Policy violation is only a console message: count it as an error.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      errors.push(message.text());
    }
  });
  return { page, errors };
}

async function screenshot(page: Page, db: string, view: string): Promise<void> {
  mkdirSync(`${ARTIFACTS}${db}`, { recursive: true });
  const path = `${ARTIFACTS}${db}/${view}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
}

async function statusOf(engine: Reseolio, id: string): Promise<JobStatus> {
  return (await engine.getHandle(id).details()).status;
}

/**
 * The app of the tests: a checkout saga (an orchestrator that reserves stock, charges a card
 * that is always declined, then releases the stock as its compensation), a job that waits for
 * an approval signal, and report jobs that no worker here runs (they stay pending), on one
 * worker engine; the dashboard is served from that engine.
 */
async function startApp(target: Target) {
  const worker = await engineOn(target, {
    workerConcurrency: 8,
    pollIntervalMs: 50,
    suspendAfterMs: 100,
    workerId: 'worker-a',
  });
  const reserve = worker.durable('shop:reserve-stock', async (orderId: string) => ({
    orderId,
    reserved: 2,
  }));
  const charge = worker.durable(
    'shop:charge-card',
    async (_orderId: string) => {
      throw Object.assign(new Error('card ending 0002 was declined'), { code: 'card_declined' });
    },
    { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 10 },
  );
  const release = worker.durable('shop:release-stock', async (orderId: string) => ({
    orderId,
    released: 2,
  }));
  const checkout = worker.durable('shop:checkout', async (orderId: string) => {
    await (await reserve(orderId)).result();
    try {
      await (await charge(orderId)).result();
      return { status: 'paid' };
    } catch (error) {
      if (!(error instanceof JobFailedError)) throw error;
      await (await release(orderId)).result();
      return { status: 'cancelled', reason: error.message };
    }
  });
  const approval = worker.durable('ops:approval', async (request: string) => {
    const decision = await waitForSignal<{ by: string }>('approved');
    return { request, approvedBy: decision?.by ?? null };
  });
  await worker.init();
  await worker.start();

  // Reports: enqueued by an engine that registers them without running workers, so no worker
  // claims them and they stay pending for the cancel and bulk actions.
  const enqueuer = await engineOn(target, { workerConcurrency: 0 });
  const report = enqueuer.durable('reports:build', async (_day: string) => 'built');
  await enqueuer.init();
  return { worker, checkout, approval, report, enqueuer };
}

const TARGETS: Array<[string, (test: string) => Target | Promise<Target>]> = [
  ['SQLite (file)', () => sqliteTarget()],
  ['PostgreSQL', (test) => postgresTarget(test)],
];

for (const [dbName, makeTarget] of TARGETS) {
  describe.skipIf(noChromium)(`the dashboard in headless Chromium on ${dbName}`, () => {
    it('shows every view and runs every action on a real database', async () => {
      const target = await makeTarget(expect.getState().currentTestName ?? 'dashboard');
      const db = target.name;
      const { worker, checkout, approval, report } = await startApp(target);

      // A checkout saga to its end: the charge dies after 2 attempts and the stock is released.
      const order = await checkout('order-1');
      expect(await order.result(30_000)).toMatchObject({ status: 'cancelled' });
      const approvalJob = await approval('refund #7');
      await waitFor(async () => (await statusOf(worker, approvalJob.jobId)) === 'waiting', {
        timeoutMs: 20_000,
      });
      const reports: string[] = [];
      for (let i = 0; i < 52; i++) {
        reports.push((await report(`2026-01-${i}`, { idempotencyKey: `report-${i}` })).jobId);
      }
      const schedule = await worker.schedule('nightly-report', 'reports:build', {
        cron: '0 2 * * *',
        timezone: 'Europe/Paris',
        args: ['nightly'],
      });

      const { url } = await serve({ instance: worker, authorize: () => true, title: 'Shop jobs' });
      const browser = await launch();
      const { page, errors } = await newPage(browser);

      // Overview: counts per function, the failure, the live line.
      await page.goto(url);
      await page.locator('h1', { hasText: 'Shop jobs' }).waitFor();
      const checkoutRow = page.locator('table.functions tr', { hasText: 'shop:checkout' });
      await checkoutRow.waitFor();
      await page.locator('.failures li', { hasText: 'shop:charge-card' }).waitFor();
      await page.locator('.failures', { hasText: 'card ending 0002 was declined' }).waitFor();
      await expect(
        page.locator('.totals .status-pending .total-count').textContent(),
      ).resolves.toBe('52');
      await page.locator('.live', { hasText: 'refreshes every 2 s' }).waitFor();
      await screenshot(page, db, 'overview');

      // Live: a job enqueued now shows up without a reload.
      await report('late', { idempotencyKey: 'report-late' });
      await page.locator('.totals .status-pending .total-count', { hasText: '53' }).waitFor({
        timeout: 15_000,
      });

      // Jobs: filter by status through the form; the filter is in the URL.
      await page.locator('nav[aria-label="Views"] a', { hasText: 'Jobs' }).click();
      await page.locator('select[name="status"]').selectOption('dead');
      // A choice not applied yet survives the view's refreshes (it was put back to the URL's
      // filter on every refresh when the fields were controlled).
      await page.locator('input[name="name"]').fill('shop:');
      const live = page.locator('p.live');
      for (let refresh = 0; refresh < 2; refresh++) {
        const before = await live.textContent();
        await waitFor(async () => (await live.textContent()) !== before, { timeoutMs: 15_000 });
      }
      await expect(page.locator('select[name="status"]').inputValue()).resolves.toBe('dead');
      await expect(page.locator('input[name="name"]').inputValue()).resolves.toBe('shop:');
      await page.locator('input[name="name"]').fill('');
      await page.locator('button', { hasText: 'Apply filters' }).click();
      await page.waitForURL(/#\/jobs\?status=dead$/);
      const deadRow = page.locator('table.jobs tbody tr', { hasText: 'shop:charge-card' });
      await deadRow.waitFor();
      await expect(page.locator('table.jobs tbody tr').count()).resolves.toBe(1);
      await screenshot(page, db, 'jobs');

      // Keyset paging on a shared link: 53 reports, 50 a page.
      await page.goto(`${url}#/jobs?name=reports:build`);
      await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 50);
      await page.locator('button', { hasText: 'Older →' }).click();
      await page.waitForURL(/before=/);
      await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 3);
      await expect(
        page.locator(`table.jobs tbody tr[data-job-id="${reports[0]}"]`).count(),
      ).resolves.toBe(1);
      await page.locator('button', { hasText: '← Newer' }).click();
      await waitFor(async () => (await page.locator('table.jobs tbody tr').count()) === 50);
      await expect(page.url()).not.toContain('before=');

      // The saga's job page: the orchestrator, its children (with the compensation) and attempts.
      await page.goto(`${url}#/jobs/${order.jobId}`);
      await page.locator('#job-title', { hasText: 'shop:checkout' }).waitFor();
      const tree = page.locator('nav.tree');
      for (const child of ['shop:reserve-stock', 'shop:charge-card', 'shop:release-stock']) {
        await tree.locator(`[data-tree-job="${child}"]`).waitFor();
      }
      await tree
        .locator('[data-tree-job="shop:charge-card"] .badge', { hasText: 'dead' })
        .waitFor();
      await tree
        .locator('[data-tree-job="shop:release-stock"] .badge', { hasText: 'success' })
        .waitFor();
      await page.locator('table.attempts tbody tr').first().waitFor();
      await page.locator('section[aria-label="Result"] pre', { hasText: '"cancelled"' }).waitFor();
      await screenshot(page, db, 'job-saga');

      // The failed child: its error with stack, every attempt with worker and error.
      await tree.locator('[data-tree-job="shop:charge-card"]').click();
      await page.locator('#job-title', { hasText: 'shop:charge-card' }).waitFor();
      await page.locator('nav.tree [data-tree-job="shop:checkout"]').waitFor();
      // The whole saga around the step: its siblings, the compensation among them.
      await page.locator('nav.tree [data-tree-job="shop:reserve-stock"]').waitFor();
      await page.locator('nav.tree [data-tree-job="shop:release-stock"]').waitFor();
      await page
        .locator('nav.tree [aria-current="page"]', { hasText: 'shop:charge-card' })
        .waitFor();
      await waitFor(async () => (await page.locator('table.attempts tbody tr').count()) === 2);
      for (const n of [1, 2]) {
        const row = page.locator(`table.attempts tr[data-attempt="${n}"]`);
        await row.locator('.outcome-failed').waitFor();
        await row.locator('td', { hasText: 'worker-a' }).waitFor();
        await row.locator('.error-block', { hasText: 'card ending 0002 was declined' }).waitFor();
      }
      await page.locator('.error-block', { hasText: 'card_declined' }).first().waitFor();
      await page.locator('h3:has-text("Error") + .error-block summary').click();
      await page.locator('.stack', { hasText: 'at ' }).first().waitFor();
      await screenshot(page, db, 'job-failed');

      // Retry: the dead child runs again (and dies again after two more attempts).
      const chargeId = page.url().split('#/jobs/')[1]!;
      const firstEnd = (await worker.getHandle(chargeId).details()).completedAt!.getTime();
      await page.locator('button[data-action="retry"]').click();
      await page.locator('.notice-ok', { hasText: 'Retried' }).waitFor();
      const again = await waitFor(
        async () => {
          const details = await worker.getHandle(chargeId).details();
          return details.status === 'dead' && details.completedAt!.getTime() > firstEnd && details;
        },
        { timeoutMs: 20_000 },
      );
      // The page follows live: every attempt of both runs is listed.
      await waitFor(
        async () =>
          (await page.locator('table.attempts tbody tr').count()) === again.attempts!.length,
        { timeoutMs: 15_000 },
      );
      expect(again.attempts!.length).toBeGreaterThan(2);
      await page.locator('#job-title .badge', { hasText: 'dead' }).waitFor();

      // Cancel one pending report from its page.
      await page.goto(`${url}#/jobs/${reports[5]}`);
      await page.locator('button[data-action="cancel"]').click();
      await page.locator('.notice-ok', { hasText: 'Cancelled.' }).waitFor();
      await page.locator('#job-title .badge', { hasText: 'cancelled' }).waitFor();
      expect(await statusOf(worker, reports[5]!)).toBe('cancelled');

      // Signal: a bad payload is refused in the page; a good one wakes the waiting job.
      await page.goto(`${url}#/jobs/${approvalJob.jobId}`);
      await page.locator('#job-title .badge', { hasText: 'waiting' }).waitFor();
      await page.locator('.waiting-for', { hasText: 'approved' }).waitFor();
      await page.locator('input[name="topic"]').fill('approved');
      await page.locator('textarea[name="payload"]').fill('{by: ops}');
      await page.locator('button[data-action="signal"]').click();
      await page.locator('.notice-error', { hasText: 'not valid JSON' }).waitFor();
      await page.locator('textarea[name="payload"]').fill('{"by": "ops"}');
      await page.locator('button[data-action="signal"]').click();
      await page.locator('.notice-ok', { hasText: 'Signal approved sent.' }).waitFor();
      await page.locator('#job-title .badge', { hasText: 'success' }).waitFor({ timeout: 20_000 });
      await page
        .locator('section[aria-label="Result"] pre', { hasText: '"approvedBy": "ops"' })
        .waitFor();
      // The workflow's journal: the signal it received, with its payload.
      await page
        .locator('table.steps tr[data-step="signal:approved"]', { hasText: '"by": "ops"' })
        .waitFor();
      await screenshot(page, db, 'job-workflow');

      // Bulk cancel by filter: the count first, then the confirmation.
      await page.goto(`${url}#/jobs?name=reports:build`);
      await page.locator('button[data-action="bulk-cancel"]').click();
      const confirm = page.locator('.confirm');
      await confirm
        .locator('p', {
          hasText: 'Cancel 52 unfinished jobs of the 53 matching name=reports:build?',
        })
        .waitFor();
      await screenshot(page, db, 'bulk-confirm');
      await confirm.locator('button[data-action="bulk-confirm"]').click();
      await page.locator('.notice-ok', { hasText: 'Cancelled 52 of 52 matching jobs.' }).waitFor();
      expect(await worker.countJobs({ name: 'reports:build', status: 'cancelled' })).toBe(53);

      // Bulk retry by filter: every cancelled report, not only the 50 on screen.
      await page.locator('button[data-action="bulk-retry"]').click();
      await confirm
        .locator('p', { hasText: 'Retry 53 dead or cancelled jobs of the 53 matching' })
        .waitFor();
      await confirm.locator('button[data-action="bulk-confirm"]').click();
      await page.locator('.notice-ok', { hasText: 'Retried 53 of 53 matching jobs.' }).waitFor();
      expect(await worker.countJobs({ name: 'reports:build', status: 'pending' })).toBe(53);

      // Schedules: the cron in words, the zone, pause, resume and trigger.
      await page.locator('nav[aria-label="Views"] a', { hasText: 'Schedules' }).click();
      const row = page.locator(`tr[data-schedule-id="${schedule.id}"]`);
      await row.locator('td', { hasText: 'At 02:00' }).waitFor();
      await row.locator('td', { hasText: 'Europe/Paris' }).waitFor();
      await screenshot(page, db, 'schedules');
      await row.locator('button[data-action="pause"]').click();
      await row.locator('.badge', { hasText: 'paused' }).waitFor();
      expect((await worker.getSchedule(schedule.id))?.status).toBe('paused');
      await row.locator('button[data-action="resume"]').click();
      await row.locator('.badge', { hasText: 'active' }).waitFor();
      expect((await worker.getSchedule(schedule.id))?.status).toBe('active');
      await row.locator('button[data-action="trigger"]').click();
      const triggered = page.locator('.notice-ok', { hasText: 'Triggered nightly-report: job ' });
      await triggered.waitFor();
      const triggeredId = (await triggered.textContent())!.split('job ')[1]!.replace(/\.$/, '');
      expect((await worker.getHandle(triggeredId).details()).scheduleId).toBe(schedule.id);

      expect(errors).toEqual([]);
    });

    it('read-only hides every action and the server refuses them; without authorization the page is refused; behind a proxy prefix it works', async () => {
      const target = await makeTarget(expect.getState().currentTestName ?? 'dashboard');
      const db = target.name;
      const { worker, checkout, report } = await startApp(target);
      const order = await checkout('order-2');
      await order.result(30_000);
      const [charge] = await worker.listJobs({ name: 'shop:charge-card', status: 'dead' });
      const pending = await report('day', { idempotencyKey: 'ro' });
      await worker.schedule('nightly-report', 'reports:build', { cron: '*/15 * * * *' });

      const { url } = await serve({
        instance: worker,
        public: true,
        readOnly: true,
        stuckAfterMs: 1000,
      });
      const browser = await launch();
      const { page, errors } = await newPage(browser);
      // The overview raises the pending report, which no worker serves, as stuck work.
      await page.goto(url);
      await page
        .locator('.alert-stuck', { hasText: 'reports:build: the oldest due job has waited' })
        .waitFor({ timeout: 15_000 });
      await screenshot(page, db, 'overview-alerts');
      await page.goto(`${url}#/jobs/${charge!.id}`);
      await page.locator('#job-title', { hasText: 'shop:charge-card' }).waitFor();
      await page.locator('.top .readonly', { hasText: 'read-only' }).waitFor();
      await page.locator('table.attempts tbody tr').first().waitFor();
      await expect(page.locator('button[data-action]').count()).resolves.toBe(0);
      await screenshot(page, db, 'readonly-job');
      await page.goto(`${url}#/jobs/${pending.jobId}`);
      await page.locator('#job-title', { hasText: 'reports:build' }).waitFor();
      await expect(page.locator('button[data-action], form.signal').count()).resolves.toBe(0);
      await page.goto(`${url}#/jobs`);
      await page.locator('table.jobs tbody tr').first().waitFor();
      await expect(page.locator('.bulk').count()).resolves.toBe(0);
      await page.goto(`${url}#/schedules`);
      await page.locator('tr[data-schedule-id="nightly-report"]').waitFor();
      await page.locator('td', { hasText: 'Every 15 minutes' }).waitFor();
      await expect(page.locator('button[data-action]').count()).resolves.toBe(0);
      // The server refuses what the page hides.
      const status = await page.evaluate(async (id) => {
        const response = await fetch(`api/jobs/${id}/retry`, { method: 'POST' });
        return response.status;
      }, charge!.id);
      expect(status).toBe(403);
      expect(await statusOf(worker, charge!.id)).toBe('dead');

      // Without authorization: 401 and 403 for the page itself, before any job data.
      const locked = await serve({
        instance: worker,
        authorize: (req) => {
          if (req.headers.authorization === undefined) {
            throw Object.assign(new Error('log in'), { status: 401 });
          }
          return req.headers.authorization === 'Bearer ops';
        },
      });
      const anonymous = await page.goto(locked.url);
      expect(anonymous?.status()).toBe(401);
      await expect(page.locator('body').textContent()).resolves.toContain(
        'RESEOLIO_UNAUTHENTICATED',
      );
      await page.setExtraHTTPHeaders({ authorization: 'Bearer eve' });
      const forbidden = await page.goto(locked.url);
      expect(forbidden?.status()).toBe(403);
      await page.setExtraHTTPHeaders({ authorization: 'Bearer ops' });
      const allowed = await page.goto(locked.url);
      expect(allowed?.status()).toBe(200);
      await page.locator('table.functions').waitFor();
      expect((await raw(locked.origin, `${PREFIX}/assets/app.js`)).status).toBe(401);
      await page.setExtraHTTPHeaders({});

      // Behind a reverse proxy that adds its own prefix, and from a link without the final
      // slash: the page finds its assets and API by relative URL, and actions work.
      const open = await serve({ instance: worker, public: true });
      const outside = await proxy(open);
      await page.goto(outside.url.replace(/\/$/, ''));
      await page.waitForURL(`${outside.url}`);
      await page.locator('table.functions tr', { hasText: 'shop:checkout' }).waitFor();
      await page.goto(`${outside.url}#/jobs/${pending.jobId}`);
      await page.locator('button[data-action="cancel"]').click();
      await page.locator('.notice-ok', { hasText: 'Cancelled.' }).waitFor();
      expect(await statusOf(worker, pending.jobId)).toBe('cancelled');
      expect(errors).toEqual([]);
    });
  });
}
