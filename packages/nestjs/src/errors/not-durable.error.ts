import { ReseolioError } from 'reseolio';

/** `DurableHandles.of()` was given something that has no such `@Durable()` method. */
export class NotDurableError extends ReseolioError {
  constructor(message: string) {
    super('RESEOLIO_NOT_DURABLE', message);
  }
}
