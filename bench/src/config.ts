/** Counts for one pass. The quick pass keeps the whole run under about five minutes on two cores. */
export interface BenchConfig {
  full: boolean;
  repetitions: number;
  enqueueCount: number;
  pickupCount: number;
  resultCount: number;
  throughputJobs: number;
  bulkJobs: number;
  sagaOrchestrators: number;
  sagaChildren: number;
  scaleFinished: number;
  scaleJobs: number;
  memoryCheckpoints: [number, number];
  /** No sequential metric runs longer than this per repetition; slower engines report fewer samples. */
  sequentialCapMs: number;
  /** A drain that has not finished by then reports the rate reached so far. */
  drainCapMs: number;
  /** The memory process stops enqueueing at this point and reports how far it got. */
  memoryCapMs: number;
  /** Engines to run (keys); empty means all. */
  only: string[];
  /** Metrics to run (keys); empty means all. */
  metrics: string[];
  /**
   * Prefixed to every database the run drops and re-creates (`--db-prefix`), so runs on a
   * shared server do not drop each other's databases. @default ''
   */
  dbPrefix: string;
  /**
   * A built `reseolio` package directory (`--otel-baseline`): the `otel` metric also drains
   * with its engine, with no SDK, to compare another build's untraced throughput.
   */
  otelBaseline: string | undefined;
}

export function parseArgs(argv: readonly string[]): BenchConfig {
  const full = argv.includes('--full');
  const listArg = (flag: string): string[] => {
    const at = argv.indexOf(flag);
    return at >= 0 && argv[at + 1] ? argv[at + 1]!.split(',') : [];
  };
  const reps = argv.indexOf('--reps');
  const base: BenchConfig = full
    ? {
        full,
        repetitions: 3,
        enqueueCount: 2000,
        pickupCount: 500,
        resultCount: 500,
        throughputJobs: 20_000,
        bulkJobs: 20_000,
        sagaOrchestrators: 200,
        sagaChildren: 3,
        scaleFinished: 1_000_000,
        scaleJobs: 20_000,
        memoryCheckpoints: [10_000, 200_000],
        sequentialCapMs: 60_000,
        drainCapMs: 60_000,
        memoryCapMs: 300_000,
        only: [],
        metrics: [],
        dbPrefix: '',
        otelBaseline: undefined,
      }
    : {
        full,
        repetitions: 3,
        enqueueCount: 500,
        pickupCount: 100,
        resultCount: 100,
        throughputJobs: 4_000,
        bulkJobs: 5_000,
        sagaOrchestrators: 50,
        sagaChildren: 3,
        scaleFinished: 100_000,
        scaleJobs: 3_000,
        memoryCheckpoints: [2_000, 20_000],
        sequentialCapMs: 1_500,
        drainCapMs: 4_000,
        memoryCapMs: 10_000,
        only: [],
        metrics: [],
        dbPrefix: '',
        otelBaseline: undefined,
      };
  base.only = listArg('--engines');
  base.metrics = listArg('--metrics');
  if (reps >= 0) base.repetitions = Number(argv[reps + 1]);
  base.dbPrefix = listArg('--db-prefix')[0] ?? '';
  base.otelBaseline = listArg('--otel-baseline')[0];
  return base;
}
