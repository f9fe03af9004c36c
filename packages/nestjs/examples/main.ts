import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.ts';

export async function bootstrap(port = 3000) {
  const app = await NestFactory.create(AppModule);
  // SIGTERM/SIGINT close the app: running jobs drain before the process exits.
  app.enableShutdownHooks();
  await app.listen(port);
  return app;
}
