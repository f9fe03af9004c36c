import type { CompletionBucket, JobStatus } from 'reseolio';
import { describe, expect, it } from 'vitest';
import { alertsFor, formatAge, NO_WORKER_AFTER_MS } from '../src/api/overview.ts';
import { cronInWords } from '../src/api/schedules.ts';
import type { FunctionOverview } from '../src/wire-types.ts';

const NOW = Date.parse('2026-12-03T12:00:00Z');

function fn(name: string, oldestPendingAgeMs: number | null, running = 0): FunctionOverview {
  const counts = { pending: 3, running, waiting: 0, success: 0, dead: 0, cancelled: 0 } as Record<
    JobStatus,
    number
  >;
  return {
    name,
    counts,
    oldestPendingAgeMs,
    lastHour: { success: 0, dead: 0, cancelled: 0 },
    throughput: [],
    registeredHere: false,
  };
}

function ended(name: string, agoMs: number): CompletionBucket {
  return { name, bucketStart: new Date(NOW - agoMs), success: 1, dead: 0, cancelled: 0 };
}

describe('overview alerts', () => {
  it('says no worker serves a function whose due jobs wait with nothing running or finishing', () => {
    const alerts = alertsFor([fn('reports:build', 2 * NO_WORKER_AFTER_MS)], [], NOW, 300_000);
    expect(alerts).toEqual([
      {
        kind: 'no-worker',
        function: 'reports:build',
        message:
          'reports:build: due jobs have waited 2m 0s with none running and none finished since; is a worker that registers reports:build running?',
      },
    ]);
  });

  it('stays quiet while a worker runs or finishes jobs of the function, or the wait is short', () => {
    const age = 2 * NO_WORKER_AFTER_MS;
    expect(alertsFor([fn('a', age, 1)], [], NOW, 300_000)).toEqual([]);
    expect(alertsFor([fn('a', age)], [ended('a', 30_000)], NOW, 300_000)).toEqual([]);
    expect(alertsFor([fn('a', NO_WORKER_AFTER_MS - 1)], [], NOW, 300_000)).toEqual([]);
    expect(alertsFor([fn('a', null)], [], NOW, 300_000)).toEqual([]);
    // A completion of another function proves nothing about this one.
    expect(alertsFor([fn('a', age)], [ended('b', 30_000)], NOW, 300_000)).toHaveLength(1);
  });

  it('raises stuck work over stuckAfterMs even while workers are busy', () => {
    const alerts = alertsFor(
      [fn('orders:charge', 400_000, 5)],
      [ended('orders:charge', 1000)],
      NOW,
      300_000,
    );
    expect(alerts).toEqual([
      {
        kind: 'stuck',
        function: 'orders:charge',
        message: 'orders:charge: the oldest due job has waited 6m 40s, over the 5m 0s threshold.',
      },
    ]);
  });

  it('formats ages for people', () => {
    expect(formatAge(45_000)).toBe('45s');
    expect(formatAge(3_725_000)).toBe('1h 2m');
    expect(formatAge(3 * 86_400_000 + 3_600_000)).toBe('3d 1h');
  });
});

describe('cron in words', () => {
  it('reads a cron, and leaves one it cannot read as it is', () => {
    expect(cronInWords('0 2 * * *')).toBe('At 02:00');
    expect(cronInWords('*/15 * * * *')).toBe('Every 15 minutes');
    expect(cronInWords('not a cron')).toBe('not a cron');
  });
});
