import type { Metric } from './types.ts';

/** 6. Orchestrators each running children one after another. */
export const saga: Metric = {
  key: 'saga',
  title: '6. Saga',
  describe: (cfg) =>
    `${cfg.sagaOrchestrators} orchestrators × ${cfg.sagaChildren} sequential children at concurrency 10; seconds until all finished. Reseolio: the orchestrator awaits each child's result(); graphile-worker and pg-boss have no await, so each child enqueues the next (their idiom).`,
  columns: [{ key: 'seconds', label: 'time', unit: 's', better: 'lower' }],
  applies: (engine) => engine.fullFeatured,
  async run(engine, cfg) {
    await engine.reset();
    const ms = await engine.runSaga(cfg.sagaOrchestrators, cfg.sagaChildren, cfg.drainCapMs);
    return [{ seconds: ms / 1000, capped: Number.isNaN(ms) ? 1 : 0 }];
  },
};
