import { currentJob, NonRetryableError, type Reseolio } from 'reseolio';
import type { ShopDeps } from '../deps.ts';

/** Pattern 1, fire and forget: signup responds at once, the email is still guaranteed. */
export function registerWelcomeEmail(reseolio: Reseolio, { repo, mailer }: ShopDeps) {
  const sendWelcomeEmail = reseolio.durable(
    reseolio.namespace('notifications', 'email', 'welcome'),
    async (userId: string) => {
      const user = await repo.getUser(userId);
      if (!user) throw new NonRetryableError(`user ${userId} does not exist`);
      const { email, created } = await mailer.send(
        {
          idempotencyKey: `welcome-${userId}`,
          to: user.email,
          template: 'welcome',
          subject: 'Welcome!',
          body: `Hi ${user.name}, welcome to the Reseolio demo shop.`,
          userId,
        },
        currentJob()?.signal,
      );
      return { sent: true, emailId: email.id, replayed: !created };
    },
    { maxAttempts: 5, initialDelayMs: 250 },
  );
  return { sendWelcomeEmail };
}
