import {
  FINAL_STATUSES,
  JobNotFoundError,
  type JobStatus,
  type Reseolio,
  ReseolioValidationError,
} from 'reseolio';
import type { ApiResponse } from 'reseolio/http';
import {
  type DashboardJobFilter,
  narrowToStatuses,
  parseJobFilter,
  parsePage,
  toEngineFilter,
} from './job-filter.ts';
import { toJobView } from './job-view.ts';

/** What retry applies to: jobs that ended without success. */
export const RETRYABLE: readonly JobStatus[] = ['dead', 'cancelled'];
/** What cancel applies to: jobs that have not ended. */
export const CANCELLABLE: readonly JobStatus[] = ['pending', 'running', 'waiting'];

/** The most children a job page lists; a fan-out of more links to the filtered list. */
const MAX_CHILDREN = 200;

/**
 * `GET api/jobs?<filter>&before&limit` → `{ jobs, next }`, newest first. `next` is the cursor
 * of the following page (the last row's id) or null at the end: keyset paging, so page 20,000
 * of a million rows costs what page 1 does.
 */
export async function listJobs(engine: Reseolio, query: URLSearchParams): Promise<ApiResponse> {
  const filter = parseJobFilter(query, ['before', 'limit']);
  const { limit, before } = parsePage(query);
  // One row more than the page tells whether there is a next page without a count.
  const rows = await engine.listJobs({
    ...toEngineFilter(filter),
    ...(before === undefined ? {} : { before }),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    status: 200,
    body: {
      jobs: page.map(toJobView),
      limit,
      next: rows.length > limit ? page[page.length - 1]!.id : null,
    },
  };
}

/**
 * `GET api/jobs/count?<filter>` → `{ total, retryable, cancellable }`: how many jobs the
 * filter matches, and how many of them a bulk retry or cancel would change. The page shows
 * these before it asks for confirmation.
 */
export async function countJobs(engine: Reseolio, query: URLSearchParams): Promise<ApiResponse> {
  const filter = parseJobFilter(query);
  const [total, retryable, cancellable] = await Promise.all([
    engine.countJobs(toEngineFilter(filter)),
    countNarrowed(engine, filter, RETRYABLE),
    countNarrowed(engine, filter, CANCELLABLE),
  ]);
  return { status: 200, body: { total, retryable, cancellable } };
}

async function countNarrowed(
  engine: Reseolio,
  filter: DashboardJobFilter,
  statuses: readonly JobStatus[],
): Promise<number> {
  const narrowed = narrowToStatuses(filter, statuses);
  return narrowed === null ? 0 : engine.countJobs(toEngineFilter(narrowed));
}

/**
 * `POST api/jobs/bulk/retry?<filter>` and `…/bulk/cancel?<filter>` with body
 * `{ "confirm": true }` → `{ matched, changed }`. Acts on every job the filter matches, not
 * only the rows on screen, in pages inside the engine. `confirm` makes a bulk action a
 * deliberate second request: the page sends it after showing the count.
 */
export async function bulkAction(
  engine: Reseolio,
  action: 'retry' | 'cancel',
  query: URLSearchParams,
  body: unknown,
): Promise<ApiResponse> {
  const filter = parseJobFilter(query);
  if (
    typeof body !== 'object' ||
    body === null ||
    (body as { confirm?: unknown }).confirm !== true
  ) {
    throw new ReseolioValidationError(
      `A bulk ${action} needs the body { "confirm": true }: read GET api/jobs/count with the same filter first, and confirm the count.`,
    );
  }
  const narrowed = narrowToStatuses(filter, action === 'retry' ? RETRYABLE : CANCELLABLE);
  if (narrowed === null) return { status: 200, body: { matched: 0, changed: 0 } };
  const engineFilter = toEngineFilter(narrowed);
  const outcome =
    action === 'retry'
      ? await engine.retryJobs(engineFilter)
      : await engine.cancelJobs(engineFilter);
  return { status: 200, body: outcome };
}

/**
 * `GET api/jobs/:id` → `{ job, parent, children, childrenTruncated, siblings }`: the job with
 * every attempt and its error's stack, its parent (null for a root, or a parent since purged),
 * its children oldest first (a saga's steps in the order they started), and its parent's
 * children (itself included; empty for a root). At most 200 of each.
 */
export async function jobPage(engine: Reseolio, id: string): Promise<ApiResponse> {
  const details = await engine.getHandle(id).details();
  const [parent, children, siblings] = await Promise.all([
    details.parentId === null ? null : readOrNull(engine, details.parentId),
    engine.listJobs({ parentId: id, limit: MAX_CHILDREN + 1 }),
    details.parentId === null
      ? []
      : engine.listJobs({ parentId: details.parentId, limit: MAX_CHILDREN + 1 }),
  ]);
  return {
    status: 200,
    body: {
      job: toJobView(details),
      parent: parent === null ? null : toJobView(parent),
      children: children.slice(0, MAX_CHILDREN).reverse().map(toJobView),
      childrenTruncated: children.length > MAX_CHILDREN,
      // The parent's other children too, so a step's page shows the whole saga around it.
      siblings: siblings.slice(0, MAX_CHILDREN).reverse().map(toJobView),
    },
  };
}

async function readOrNull(engine: Reseolio, id: string) {
  try {
    return await engine.getHandle(id).details();
  } catch (error) {
    if (error instanceof JobNotFoundError) return null;
    throw error;
  }
}

/** Whether a status is final (for the page: a final job offers retry, others cancel). */
export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
