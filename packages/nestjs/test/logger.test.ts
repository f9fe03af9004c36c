import { ConsoleLogger, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MemoryStorage, Reseolio, type Logger as ReseolioLogger, reportProgress } from 'reseolio';
import type { ProgressInput } from 'reseolio/storage';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RESEOLIO_ENGINE, ReseolioModule } from '../src/index.ts';

/** Memory storage whose progress writes fail: each one is a warning about its job. */
class FailingProgressStorage extends MemoryStorage {
  override async setProgress(_input: ProgressInput): Promise<boolean> {
    throw new Error('database unreachable');
  }
}

/** Everything written to stdout and stderr meanwhile, as lines. */
function captureOutput(): string[] {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      return true;
    });
  }
  return lines;
}

/**
 * Runs one job on `engine` that makes it log two lines about the job: a failed progress
 * write (warn) and a `job:start` listener that throws (error). Resolves the job's id.
 */
async function runJobThatLogs(engine: Reseolio): Promise<string> {
  engine.on('job:start', () => {
    throw new Error('listener bug');
  });
  const fn = engine.durable('logging:job', async () => {
    await reportProgress(0.5).catch(() => {});
    return 'ok';
  });
  await engine.start();
  const handle = await fn();
  await handle.result(10_000);
  return handle.jobId;
}

async function withEngine(logger: ReseolioLogger): Promise<string> {
  const engine = new Reseolio({
    storage: new FailingProgressStorage(),
    logger,
    pollIntervalMs: 50,
  });
  try {
    return await runJobThatLogs(engine);
  } finally {
    await engine.stop({ timeoutMs: 500 });
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Nest's loggers as the engine's logger", () => {
  it('ConsoleLogger: each job line is one line with the job id and name; an error has its stack', async () => {
    const output = captureOutput();
    const jobId = await withEngine(new ConsoleLogger('Jobs', { colors: false }));
    vi.restoreAllMocks();
    const aboutJob = output.filter((line) => line.includes(jobId));
    expect(aboutJob).toHaveLength(2);
    for (const line of aboutJob) {
      expect(line).toContain(`[Jobs] job ${jobId} (logging:job) attempt 1: `);
    }
    const warn = aboutJob.find((line) => line.includes(' WARN '));
    const error = aboutJob.find((line) => line.includes(' ERROR '));
    expect(warn).toMatch(/storing its progress failed Error: database unreachable$/);
    expect(error).toMatch(/a "job:start" listener threw$/);
    // Nest prints the stack on the lines after the error.
    const errorAt = output.indexOf(error!);
    expect(output[errorAt + 1]).toMatch(/^Error: listener bug/);
  });

  it('ConsoleLogger in JSON mode: one JSON object per job line, the job in its message', async () => {
    const output = captureOutput();
    const jobId = await withEngine(new ConsoleLogger('Jobs', { json: true }));
    vi.restoreAllMocks();
    const aboutJob = output.filter((line) => line.includes(jobId)).map((line) => JSON.parse(line));
    expect(aboutJob.map((line) => line.level).sort()).toEqual(['error', 'warn']);
    for (const line of aboutJob) {
      expect(line.context).toBe('Jobs');
      expect(line.message).toMatch(new RegExp(`^job ${jobId} \\(logging:job\\) attempt 1: `));
    }
    expect(aboutJob.find((line) => line.level === 'error').stack).toMatch(/^Error: listener bug/);
  });

  it("the module logs through Nest's Logger by default, so the app's logger gets the lines", async () => {
    const lines: { level: string; message: unknown; context: unknown }[] = [];
    const record =
      (level: string) =>
      (message: unknown, ...params: unknown[]) => {
        lines.push({ level, message, context: params.at(-1) });
      };
    const moduleRef = await Test.createTestingModule({
      imports: [ReseolioModule.forRoot({ storage: new FailingProgressStorage() })],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useLogger({ log() {}, warn: record('warn'), error: record('error') });
    await app.init();
    try {
      const jobId = await runJobThatLogs(app.get<Reseolio>(RESEOLIO_ENGINE));
      const aboutJob = lines.filter((line) => String(line.message).includes(jobId));
      expect(aboutJob.map((line) => line.level).sort()).toEqual(['error', 'warn']);
      for (const line of aboutJob) {
        expect(line.message).toMatch(new RegExp(`^job ${jobId} \\(logging:job\\) attempt 1: `));
        expect(line.context).toBe('Reseolio');
      }
    } finally {
      await app.close();
      // useLogger() replaced the process-wide logger of Nest's `Logger`.
      Logger.overrideLogger(new ConsoleLogger());
    }
  });
});
