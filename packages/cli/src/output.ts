import { styleText } from 'node:util';
import { jsonText } from './json-text.ts';

/** Writes a command's result: stdout for results, stderr for notes and progress. */
export const output = {
  /** The `--json` result: the only thing a command writes to stdout then. */
  json(value: unknown): void {
    process.stdout.write(`${jsonText(value)}\n`);
  },
  /** A line (or lines) of human output. */
  text(text: string): void {
    process.stdout.write(`${text}\n`);
  },
  /** A note for the person at the terminal, kept off stdout so pipes see results only. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  },
};

type Style = 'green' | 'yellow' | 'red' | 'dim';

/** `text` in `style` when stdout is a terminal and NO_COLOR is unset; plain otherwise. */
export function styled(style: Style, text: string): string {
  const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
  return colour ? styleText(style, text) : text;
}
