import type { Command } from 'commander';
import { integerFrom } from './format.ts';

/** `--limit` and `--offset` of a list command. */
export interface PagingValues {
  limit: number;
  offset: number;
}

/** Adds `--limit <n>` (1 to 1000, as the engine's lists take) and `--offset <n>`. */
export function pagingOptions(command: Command, defaultLimit: number): Command {
  return command
    .option('--limit <n>', 'at most this many, 1 to 1000', integerFrom(1, 1000), defaultLimit)
    .option('--offset <n>', 'skip this many first', integerFrom(0, Number.MAX_SAFE_INTEGER), 0);
}
