/**
 * Rows as aligned columns under a header, two spaces apart; numbers right-aligned. Widths count
 * code points, which is right for the ids, names and dates shown here.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((header, column) =>
    Math.max(width(header), ...cells.map((row) => width(row[column] ?? ''))),
  );
  const numeric = headers.map((_, column) => rows.every((row) => typeof row[column] === 'number'));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const pad = ' '.repeat(widths[column]! - width(cell));
        return numeric[column] ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/** `label value` lines with the labels aligned: one record, shown as a list. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(...fields.map(([label]) => width(label)));
  return fields
    .map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`.trimEnd())
    .join('\n');
}

function width(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
