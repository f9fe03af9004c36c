import { type SQL, sql } from 'drizzle-orm';

/**
 * One of the shop's tables as the repository writes SQL for it: records use camelCase
 * fields, columns are their snake_case names. Both databases return a column under the alias
 * a SELECT or RETURNING gives it, so `columns` hands back rows that already are records.
 */
export interface Table<R> {
  readonly name: SQL;
  /** A field's quoted column name. */
  column(field: keyof R & string): SQL;
  /** `"price_cents" AS "priceCents", …`: for SELECT and RETURNING. */
  readonly columns: SQL;
  /**
   * `INSERT INTO name (…) VALUES (…), …`, one row per record, naming the fields the first
   * record has: a field it leaves out gets the column's default (`replays` 0, …).
   */
  insert(records: Partial<R> | readonly Partial<R>[]): SQL;
  /** `"status" = …, "label_url" = …`: the fields the patch sets. */
  set(patch: Partial<R>): SQL;
}

/** Quoted, so a field such as `to` may be named like an SQL keyword. */
const column = (field: string) => `"${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}"`;

const commas = (parts: SQL[]) => sql.join(parts, sql`, `);

export function table<R>(name: string, fields: readonly (keyof R & string)[]): Table<R> {
  return {
    name: sql.raw(name),
    column: (field) => sql.raw(column(field)),
    columns: sql.raw(fields.map((f) => `${column(f)} AS "${f}"`).join(', ')),
    insert(records) {
      const rows = (Array.isArray(records) ? records : [records]) as readonly Partial<R>[];
      const named = fields.filter((f) => rows[0]?.[f] !== undefined);
      const tuples = rows.map((r) => sql`(${commas(named.map((f) => sql`${r[f] ?? null}`))})`);
      return sql`INSERT INTO ${sql.raw(name)} (${sql.raw(named.map(column).join(', '))})
                 VALUES ${commas(tuples)}`;
    },
    set(patch) {
      // Only known fields become column names: a key from anywhere else never reaches the SQL.
      const assigned = fields.filter((f) => patch[f] !== undefined);
      return commas(assigned.map((f) => sql`${sql.raw(column(f))} = ${patch[f]}`));
    },
  };
}
