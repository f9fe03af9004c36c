import { attachShutdown, reseolioMiddleware, reseolioRouter, wrapAsync } from '@reseolio/express';
import express from 'express';
import { Reseolio } from 'reseolio';

export async function start(options: {
  storage: string; // e.g. 'sqlite:./app.db' or 'postgres://…'
  adminToken: string;
  port: number;
  host?: string;
  onShutdown?: () => void; // leave out to exit the process after a graceful shutdown
}) {
  const reseolio = new Reseolio({ storage: options.storage });

  const sendWelcomeEmail = reseolio.durable(
    'emails:welcome',
    async (to: string) => {
      // Call your email provider here; a throw is retried with backoff.
      return { sentTo: to };
    },
    { maxAttempts: 5 },
  );

  await reseolio.start();

  const app = express();
  app.use(express.json());
  app.use(reseolioMiddleware({ instance: reseolio }));
  app.use(
    '/jobs',
    reseolioRouter({
      instance: reseolio,
      // true → allowed, anything else → 403. A throw → 500, logged (unless the error has
      // status 401, e.g. http-errors' createError(401): then 401).
      authorize: (req) => req.headers.authorization === `Bearer ${options.adminToken}`,
    }),
  );

  app.post(
    '/signup',
    wrapAsync(async (req, res) => {
      const handle = await sendWelcomeEmail(req.body.email);
      res.status(202).json({ jobId: handle.jobId });
    }),
  );

  const server = app.listen(options.port, options.host ?? '0.0.0.0');
  // SIGTERM/SIGINT: stop accepting connections, drain running jobs for up to 10 s, close
  // storage, exit.
  const shutdown = attachShutdown(server, {
    instance: reseolio,
    stopInstance: true,
    stopTimeoutMs: 10_000,
    onShutdown: options.onShutdown,
  });
  return { server, shutdown };
}
