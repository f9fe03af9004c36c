import { ReseolioError } from 'reseolio';
import { DUPLICATE_DURABLE, DURABLE_NAME_TAKEN } from '../reseolio.messages.ts';

/** Two `@Durable()` methods (or a method and code outside Nest) claim the same name. */
export class DuplicateDurableError extends ReseolioError {
  /** The contested durable-function name. */
  readonly durableName: string;

  /**
   * @param name the contested name
   * @param method `Class.method` being registered
   * @param first `Class.method` that registered the name first; unknown when it was registered
   *   on a borrowed engine outside Nest
   */
  constructor(name: string, method: string, first?: string, options?: { cause?: unknown }) {
    super(
      'RESEOLIO_DUPLICATE_DURABLE',
      first === undefined
        ? DURABLE_NAME_TAKEN(name, method)
        : DUPLICATE_DURABLE(name, first, method),
      options,
    );
    this.durableName = name;
  }
}
