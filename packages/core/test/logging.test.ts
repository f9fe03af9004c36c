import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Logger,
  MemoryStorage,
  ReseolioValidationError,
  reportProgress,
} from '../src/index.ts';
import type { ProgressInput } from '../src/storage/records.ts';
import { makeEngine, waitFor } from './helpers.ts';

/** Memory storage whose progress writes fail: each one is a warning about its job. */
class FailingProgressStorage extends MemoryStorage {
  override async setProgress(_input: ProgressInput): Promise<boolean> {
    throw new Error('database unreachable');
  }
}

/**
 * Runs one job that makes the engine log two lines about it: a failed progress write (warn)
 * and a `job:start` listener that throws (error). Resolves the job's id.
 */
async function runJobThatLogs(logger: Logger): Promise<string> {
  const engine = makeEngine({ storage: new FailingProgressStorage(), logger });
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

afterEach(() => {
  vi.restoreAllMocks();
});

describe('logging', () => {
  it('pino: every line about a job has its id and name in the message and as fields', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          lines.push(JSON.parse(line));
        }
        done();
      },
    });
    const logger = pino({ level: 'debug' }, stream);
    const jobId = await runJobThatLogs(logger);
    await waitFor(() => lines.length >= 2);
    const aboutJob = lines.filter((line) => String(line.msg).includes(jobId));
    expect(aboutJob).toHaveLength(2);
    for (const line of aboutJob) {
      expect(line).toMatchObject({ jobId, jobName: 'logging:job', attempt: 1 });
      expect(line.msg).toMatch(new RegExp(`^job ${jobId} \\(logging:job\\) attempt 1: `));
    }
    const [warn, error] = [40, 50].map((level) => aboutJob.find((line) => line.level === level));
    expect(warn?.msg).toContain('storing its progress failed');
    expect(warn?.err).toMatchObject({ message: 'database unreachable' });
    expect(error?.msg).toContain('a "job:start" listener threw');
    expect(error?.err).toMatchObject({ message: 'listener bug', stack: expect.any(String) });
  });

  it('console: the message names the job, then the fields, then the error', async () => {
    const calls: { level: string; args: unknown[] }[] = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        calls.push({ level, args });
      });
    }
    const jobId = await runJobThatLogs(console);
    const aboutJob = calls.filter(({ args }) => String(args[0]).includes(jobId));
    expect(aboutJob.map(({ level }) => level).sort()).toEqual(['error', 'warn']);
    for (const { args } of aboutJob) {
      expect(args[0]).toMatch(new RegExp(`^job ${jobId} \\(logging:job\\) attempt 1: `));
      expect(args[1]).toEqual({ jobId, jobName: 'logging:job', attempt: 1 });
      expect(args[2]).toBeInstanceOf(Error);
    }
  });

  it('a logger with only warn and error is enough; one without them is refused', async () => {
    const warned: unknown[] = [];
    const jobId = await runJobThatLogs({ warn: (text) => warned.push(text), error() {} });
    expect(warned.some((text) => String(text).includes(jobId))).toBe(true);
    expect(() => makeEngine({ logger: { warn() {} } as unknown as Logger })).toThrow(
      ReseolioValidationError,
    );
    expect(() =>
      makeEngine({ logger: { warn() {}, error() {}, info: 'loud' } as unknown as Logger }),
    ).toThrow(/warn and error methods/);
  });
});
