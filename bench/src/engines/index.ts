import { GraphileEngine } from './graphile-worker.ts';
import { PgBossEngine } from './pg-boss.ts';
import { RawSqlEngine } from './raw-sql.ts';
import { ReseolioEngine } from './reseolio.ts';
import type { Engine } from './types.ts';

/** Database names, one per engine, on the benchmark's server. */
export const DATABASES = {
  'reseolio-pg': 'bench_reseolio',
  'graphile-worker': 'bench_graphile',
  'pg-boss': 'bench_pgboss',
  'raw-sql': 'bench_raw_sql',
} as const;

/** Rebuilds an engine from `engine.childArgs` (in a child process). */
export function engineFromArgs(key: string, variant: string, location: string): Engine {
  const v = variant === 'fast' ? 'fast' : 'default';
  switch (key) {
    case 'reseolio-pg':
      return new ReseolioEngine({ backend: 'pg', variant: v, location });
    case 'reseolio-sqlite':
      return new ReseolioEngine({ backend: 'sqlite', variant: v, location });
    case 'graphile-worker':
      return new GraphileEngine(location, v);
    case 'pg-boss':
      return new PgBossEngine(location, v);
    case 'raw-sql':
      return new RawSqlEngine(location);
    default:
      throw new Error(`unknown engine ${key}`);
  }
}

/** Every engine × variant of the run, in table order. */
export function allEngines(
  urls: Record<keyof typeof DATABASES, string>,
  sqliteFile: string,
): Engine[] {
  const engines: Engine[] = [];
  for (const variant of ['default', 'fast'] as const) {
    engines.push(new ReseolioEngine({ backend: 'pg', variant, location: urls['reseolio-pg'] }));
    engines.push(new ReseolioEngine({ backend: 'sqlite', variant, location: sqliteFile }));
    engines.push(new GraphileEngine(urls['graphile-worker'], variant));
    engines.push(new PgBossEngine(urls['pg-boss'], variant));
  }
  engines.push(new RawSqlEngine(urls['raw-sql']));
  return engines;
}
