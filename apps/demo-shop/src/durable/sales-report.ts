import { currentJob, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../deps.ts';

/** The schedule's id, and the durable function each of its ticks runs. */
export const SALES_REPORT_SCHEDULE = 'reports:sales:daily';

/**
 * Schedules: a sales report mailed to the shop's owner every morning. The schedule is
 * declared at every start (`declareSalesReport`), stored in the database, and fired once per
 * tick however many shop processes run; the page's "Send now" button triggers one run.
 */
export function registerSalesReport(reseolio: Reseolio, { repo, mailer }: ShopDeps) {
  const sendSalesReport = reseolio.durable(
    reseolio.namespace('reports', 'sales', 'daily'),
    async (recipient: string) => {
      const job = currentJob()!;
      // The tick this run is for: a scheduled job is due at its tick.
      const { runAt } = await reseolio.getHandle(job.jobId).details();
      const { orders } = await repo.snapshot();
      const fulfilled = orders.filter((o) => o.status === 'fulfilled');
      const revenueCents = fulfilled.reduce((sum, o) => sum + o.amountCents, 0);
      const { email } = await mailer.send(
        {
          // One email per run, however often the run is retried.
          idempotencyKey: `sales-report-${job.jobId}`,
          to: recipient,
          template: 'sales-report',
          subject: `Sales report, ${runAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
          body:
            `${orders.length} orders, ${fulfilled.length} fulfilled, ` +
            `${(revenueCents / 100).toFixed(2)} € revenue.`,
        },
        job.signal,
      );
      return { emailId: email.id, orders: orders.length, revenueCents };
    },
    { maxAttempts: 5, initialDelayMs: 250 },
  );
  return { sendSalesReport };
}

/** Declares (upserts) the daily report: 08:00 in Berlin, one run after downtime, never two at once. */
export function declareSalesReport(
  reseolio: Reseolio,
  sendSalesReport: ReturnType<typeof registerSalesReport>['sendSalesReport'],
) {
  return reseolio.schedule(SALES_REPORT_SCHEDULE, sendSalesReport, {
    cron: '0 8 * * *',
    timezone: 'Europe/Berlin',
    args: ['owner@shop.example'],
    catchUp: 'latest',
    overlap: 'skip',
  });
}
