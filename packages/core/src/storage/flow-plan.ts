import type { FlowRule } from './records.ts';

/**
 * The decision of a claim with flow rules, as a pure function, so that every adapter that
 * reads the candidates and the counts itself (memory, SQLite) applies one implementation of
 * the rules in `StorageAdapter.claim`: limits per group, fairness rounds, the order, and the
 * time to announce for jobs a rule left behind.
 *
 * The caller passes the due candidates it read (for a ruled name, enough of each group: at
 * least one more than the group may take, so that a job left behind is seen) with the counts
 * of each group, and leases the jobs the plan returns, in the same atomic step.
 */

/** A due job the claim may take. */
export interface FlowCandidate {
  id: string;
  name: string;
  priority: number;
  runAt: number;
  createdAt: number;
  concurrencyKey: string | null;
  rateLimitKey: string | null;
}

/** What the database says about one concurrency group right now. */
export interface ConcurrencyGroupState {
  /** Running jobs of the group whose lease holds (`leaseExpiresAt >= now`). */
  running: number;
  /** The earliest `leaseExpiresAt` among them; null when none runs. */
  earliestLeaseExpiresAt: number | null;
}

/** What the database says about one rate group right now. */
export interface RateGroupState {
  /** Starts of the group stamped after `now - periodMs` (later than `now` too), oldest first. */
  starts: readonly number[];
}

export interface FlowPlanInput<C extends FlowCandidate> {
  candidates: readonly C[];
  rules: ReadonlyMap<string, FlowRule>;
  limit: number;
  now: number;
  /** The state of the concurrency group (name, key); called for ruled names only. */
  concurrency(name: string, key: string | null): ConcurrencyGroupState;
  /** The state of the rate group (name, key); called for ruled names only. */
  rate(name: string, key: string | null): RateGroupState;
}

export interface FlowPlan<C extends FlowCandidate> {
  /** The jobs to lease, in claim order. */
  take: C[];
  /** Per name: when a job a rule left behind could start at the earliest (announce `ready`). */
  readyAt: Map<string, number>;
}

/** The order of a claim before rounds: priority, then `runAt`, then creation (id). */
export function claimOrder(a: FlowCandidate, b: FlowCandidate): number {
  return (
    b.priority - a.priority ||
    a.runAt - b.runAt ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** A group's map key; `\u0000` cannot occur in names or keys (both are validated). */
function groupOf(name: string, key: string | null): string {
  return key === null ? `${name}\u0000` : `${name}\u0000\u0000${key}`;
}

export function planFlowClaim<C extends FlowCandidate>(input: FlowPlanInput<C>): FlowPlan<C> {
  const { rules, now } = input;
  const ordered = [...input.candidates].sort(claimOrder);
  /** Per group: what the claim has taken so far in it. */
  const takenIn = new Map<string, number>();
  const concurrencyStates = new Map<string, ConcurrencyGroupState>();
  const rateStates = new Map<string, RateGroupState>();
  const readyAt = new Map<string, number>();
  const accepted: { job: C; round: number }[] = [];

  for (const job of ordered) {
    const rule = rules.get(job.name);
    if (rule === undefined || (rule.concurrency === undefined && rule.rateLimit === undefined)) {
      accepted.push({ job, round: 1 });
      continue;
    }
    // When each full rule lets one more start, if nothing else changes; undefined: not full.
    let blockedUntil: number | undefined;
    const concurrencyGroup = `c${groupOf(job.name, job.concurrencyKey)}`;
    if (rule.concurrency !== undefined) {
      let state = concurrencyStates.get(concurrencyGroup);
      if (state === undefined) {
        state = input.concurrency(job.name, job.concurrencyKey);
        concurrencyStates.set(concurrencyGroup, state);
      }
      if (state.running + (takenIn.get(concurrencyGroup) ?? 0) >= rule.concurrency) {
        // A slot frees when a job ends (announced by its own event) or when a lease lapses.
        // Jobs this claim took hold leases longer than any already running.
        blockedUntil =
          state.earliestLeaseExpiresAt === null ? undefined : state.earliestLeaseExpiresAt + 1;
        if (blockedUntil === undefined) blockedUntil = Number.POSITIVE_INFINITY;
      }
    }
    const rateGroup = `r${groupOf(job.name, job.rateLimitKey)}`;
    if (rule.rateLimit !== undefined) {
      let state = rateStates.get(rateGroup);
      if (state === undefined) {
        state = input.rate(job.name, job.rateLimitKey);
        rateStates.set(rateGroup, state);
      }
      const taken = takenIn.get(rateGroup) ?? 0;
      const used = state.starts.length + taken;
      if (used >= rule.rateLimit.limit) {
        // The window frees one start when its oldest counted start is periodMs old. Starts
        // of this claim are at `now`, after every recorded one.
        const oldest = used - rule.rateLimit.limit;
        const freesAt =
          (oldest < state.starts.length ? state.starts[oldest]! : now) + rule.rateLimit.periodMs;
        blockedUntil = Math.max(blockedUntil ?? freesAt, freesAt);
      }
    }
    if (blockedUntil !== undefined) {
      if (Number.isFinite(blockedUntil)) {
        readyAt.set(job.name, Math.min(readyAt.get(job.name) ?? blockedUntil, blockedUntil));
      }
      continue;
    }
    if (rule.concurrency !== undefined) {
      takenIn.set(concurrencyGroup, (takenIn.get(concurrencyGroup) ?? 0) + 1);
    }
    if (rule.rateLimit !== undefined) takenIn.set(rateGroup, (takenIn.get(rateGroup) ?? 0) + 1);
    // Fairness is among the groups that limit the name: concurrency groups when it has a
    // concurrency rule, else rate groups.
    const fairGroup = rule.concurrency !== undefined ? concurrencyGroup : rateGroup;
    const round = (takenIn.get(`f${fairGroup}`) ?? 0) + 1;
    takenIn.set(`f${fairGroup}`, round);
    accepted.push({ job, round });
  }

  accepted.sort(
    (a, b) => b.job.priority - a.job.priority || a.round - b.round || claimOrder(a.job, b.job),
  );
  return { take: accepted.slice(0, input.limit).map(({ job }) => job), readyAt };
}
