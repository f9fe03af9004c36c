import pg from 'pg';
import { sleep } from '../stats.ts';

/**
 * For engines with no way to await a job's outcome: ask the job table every `everyMs`
 * milliseconds on one dedicated connection, as an application would have to.
 */
export class ResultPoller {
  readonly #pool: pg.Pool;
  readonly #query: string;
  readonly #everyMs: number;

  /** `query` takes the job id as $1 and returns a row while the job is unfinished. */
  constructor(url: string, query: string, everyMs = 5) {
    this.#pool = new pg.Pool({ connectionString: url, max: 4 });
    this.#query = query;
    this.#everyMs = everyMs;
  }

  async wait(id: string): Promise<void> {
    for (;;) {
      const { rowCount } = await this.#pool.query(this.#query, [id]);
      if (rowCount === 0) return;
      await sleep(this.#everyMs);
    }
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
