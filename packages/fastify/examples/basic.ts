import reseolio from '@reseolio/fastify';
import Fastify from 'fastify';

export async function buildApp(options: { storage: string; adminToken: string }) {
  const app = Fastify({ logger: true });

  await app.register(reseolio, {
    storage: options.storage, // e.g. 'sqlite:./app.db' or 'postgres://…'
    routes: {
      prefix: '/jobs',
      // Throw → 401, false → 403, true → allowed.
      authorize: (request) => {
        const header = request.headers.authorization;
        if (!header) throw new Error('missing credentials');
        return header === `Bearer ${options.adminToken}`;
      },
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
