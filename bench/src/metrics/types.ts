import type { BenchConfig } from '../config.ts';
import type { Engine } from '../engines/types.ts';

/** One repetition's numbers, by column key. `capped` = 1 when a time cap cut the run short. */
export type Measurement = Record<string, number>;

export interface Column {
  key: string;
  label: string;
  unit: string;
  /** Which way is better, for the ratio's reading. */
  better: 'lower' | 'higher';
}

export interface Metric {
  key: string;
  title: string;
  /** How the metric was measured, for the report. */
  describe(cfg: BenchConfig): string;
  columns: Column[];
  applies(engine: Engine): boolean;
  /** Repetitions of this metric (default: cfg.repetitions). */
  repetitions?(cfg: BenchConfig): number;
  /** Runs once before the repetitions (seeding…). */
  run(engine: Engine, cfg: BenchConfig): Promise<Measurement[]>;
}
