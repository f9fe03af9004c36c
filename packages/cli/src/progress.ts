import cliProgress from 'cli-progress';

/** Counts work done; a bar on stderr, or nothing at all. */
export interface Progress {
  tick(): void;
  stop(): void;
}

const SILENT: Progress = { tick() {}, stop() {} };

/**
 * A progress bar of `total` steps on stderr when `shown` and stderr is a terminal (never in a
 * pipe or a log file, where it would only be noise), else a silent one.
 */
export function startProgress(label: string, total: number, shown: boolean): Progress {
  if (!shown || process.stderr.isTTY !== true) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
