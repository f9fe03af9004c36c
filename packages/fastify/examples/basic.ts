import reseolio from '@reseolio/fastify';
import Fastify from 'fastify';

export async function buildApp(options: { storage: string; adminToken: string }) {
  const app = Fastify({ logger: true });

  await app.register(reseolio, {
    storage: options.storage, // e.g. 'sqlite:./app.db' or 'postgres://…'
    stopTimeoutMs: 10_000, // app.close() lets running jobs finish for up to 10 s
    routes: {
      prefix: '/jobs',
      // true → allowed, anything else → 403. A throw → 500, logged (unless the error has
      // statusCode 401, e.g. @fastify/sensible's httpErrors.unauthorized(): then 401).
      authorize: (request) => request.headers.authorization === `Bearer ${options.adminToken}`,
    },
  });

  const sendWelcomeEmail = app.reseolio.durable(
    'emails:welcome',
    async (to: string) => {
      // Call your email provider here; a throw is retried with backoff.
      return { sentTo: to };
    },
    { maxAttempts: 5 },
  );

  app.post<{ Body: { email: string } }>('/signup', async (request, reply) => {
    const handle = await sendWelcomeEmail(request.body.email);
    return reply.code(202).send({ jobId: handle.jobId });
  });

  return app;
}
