import { useState } from 'preact/hooks';
import { FILTER_KEYS, type FilterKey } from '../../filter-keys.ts';
import { getJson, postJson, queryString } from '../api.ts';
import {
  type ActionResult,
  LiveLine,
  messageOf,
  Notice,
  StatusBadge,
  Time,
} from '../components.tsx';
import { count, shortId } from '../format.ts';
import { usePoll } from '../poll.ts';
import { href, navigate } from '../router.ts';
import { JOB_STATUSES, type JobList, type Settings } from '../types.ts';

type Filter = Partial<Record<FilterKey, string>>;

export function JobsView({ params, settings }: { params: URLSearchParams; settings: Settings }) {
  const filter: Filter = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value !== null && value !== '') filter[key] = value;
  }
  const before = params.get('before') ?? undefined;
  const filterQuery = queryString(filter);
  const listQuery = queryString({ ...filter, before });
  const { data, error, updatedAt, refresh } = usePoll(`jobs${listQuery}`, (signal) =>
    getJson<JobList>(`jobs${listQuery}`, signal),
  );
  // Cursors of the pages already seen, so "Newer" walks back; a shared link starts empty and
  // "Newer" then goes to the newest page.
  const [history, setHistory] = useState<string[]>([]);

  const go = (next: Filter & { before?: string | undefined }) => navigate(href('/jobs', next));

  return (
    <section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <FilterForm
        // Its fields are uncontrolled, and it is remounted when the URL's filter changes: the
        // 2-second refresh re-renders this view, and controlled fields would put back the
        // applied filter over what the user is choosing or typing.
        key={filterQuery}
        filter={filter}
        onApply={(next) => {
          setHistory([]);
          go(next);
        }}
      />
      {!settings.readOnly && <BulkActions filter={filter} onDone={refresh} />}
      <LiveLine error={error} updatedAt={updatedAt} />
      {data === undefined ? (
        error === undefined && <p class="muted">Loading…</p>
      ) : data.jobs.length === 0 ? (
        <p class="muted">No jobs match.</p>
      ) : (
        <div class="table-wrap">
          <table class="jobs">
            <caption class="sr-only">Jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Function</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Attempt
                </th>
                <th scope="col">Created</th>
                <th scope="col">Finished</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {data.jobs.map((job) => (
                <tr key={job.id} data-job-id={job.id}>
                  <td>
                    <a href={href(`/jobs/${job.id}`)} title={job.id} class="mono">
                      {shortId(job.id)}
                    </a>
                  </td>
                  <td>{job.name}</td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td class="num">
                    {job.attempt}/{job.maxAttempts}
                  </td>
                  <td>
                    <Time iso={job.createdAt} />
                  </td>
                  <td>
                    <Time iso={job.completedAt} />
                  </td>
                  <td class="error-text">
                    {job.error ? `${job.error.name}: ${job.error.message}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button
          type="button"
          disabled={before === undefined}
          onClick={() => {
            const previous = history.slice(0, -1);
            setHistory(previous);
            go({ ...filter, before: history[history.length - 1] });
          }}
        >
          ← Newer
        </button>
        <button
          type="button"
          disabled={!data?.next}
          onClick={() => {
            if (!data?.next) return;
            setHistory([...history, before ?? '']);
            go({ ...filter, before: data.next });
          }}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}

function FilterForm({ filter, onApply }: { filter: Filter; onApply: (filter: Filter) => void }) {
  return (
    <form
      class="filters"
      aria-label="Filter jobs"
      onSubmit={(event) => {
        event.preventDefault();
        const data = new FormData(event.currentTarget);
        const next: Filter = {};
        for (const key of FILTER_KEYS) {
          let value = String(data.get(key) ?? '').trim();
          if ((key === 'createdAfter' || key === 'createdBefore') && value !== '') {
            value = new Date(value).toISOString();
          }
          if (value !== '') next[key] = value;
        }
        onApply(next);
      }}
    >
      <label>
        Status
        <select name="status">
          <option value="" selected={filter.status === undefined}>
            any
          </option>
          {[
            ...JOB_STATUSES.map((status) => [status, status]),
            ['dead,cancelled', 'dead or cancelled'],
            ['pending,running,waiting', 'not finished'],
          ].map(([value, label]) => (
            <option key={value} value={value} selected={filter.status === value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Function
        <input name="name" defaultValue={filter.name ?? ''} placeholder="orders:charge" />
      </label>
      <label>
        Idempotency key
        <input name="idempotencyKey" defaultValue={filter.idempotencyKey ?? ''} />
      </label>
      <label>
        Schedule
        <input name="scheduleId" defaultValue={filter.scheduleId ?? ''} />
      </label>
      <label>
        Parent job
        <input name="parentId" defaultValue={filter.parentId ?? ''} />
      </label>
      <label>
        Created from
        <input
          type="datetime-local"
          step="1"
          name="createdAfter"
          defaultValue={toLocalInput(filter.createdAfter)}
        />
      </label>
      <label>
        Created before
        <input
          type="datetime-local"
          step="1"
          name="createdBefore"
          defaultValue={toLocalInput(filter.createdBefore)}
        />
      </label>
      <div class="filter-buttons">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <a href={href('/jobs')} class="button">
          Clear
        </a>
      </div>
    </form>
  );
}

/** An ISO time (or epoch ms) as a `datetime-local` value in the viewer's zone. */
function toLocalInput(value: string | undefined): string {
  if (value === undefined) return '';
  const date = new Date(/^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

interface Counts {
  total: number;
  retryable: number;
  cancellable: number;
}

/**
 * Retry or cancel every job the filter matches, not only the rows on screen. The first click
 * reads the count; the second, on a button that says the number, acts.
 */
function BulkActions({ filter, onDone }: { filter: Filter; onDone: () => void }) {
  const [pending, setPending] = useState<{ action: 'retry' | 'cancel'; counts: Counts } | null>(
    null,
  );
  const [result, setResult] = useState<ActionResult | null>(null);
  const [busy, setBusy] = useState(false);
  const query = queryString(filter);
  const described = Object.entries(filter)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');

  const prepare = async (action: 'retry' | 'cancel') => {
    setBusy(true);
    setResult(null);
    try {
      setPending({ action, counts: await getJson<Counts>(`jobs/count${query}`) });
    } catch (error) {
      setResult({ kind: 'error', text: messageOf(error) });
    } finally {
      setBusy(false);
    }
  };
  const confirm = async () => {
    if (pending === null) return;
    setBusy(true);
    try {
      const { matched, changed } = await postJson<{ matched: number; changed: number }>(
        `jobs/bulk/${pending.action}${query}`,
        { confirm: true },
      );
      const verb = pending.action === 'retry' ? 'Retried' : 'Cancelled';
      setResult({
        kind: 'ok',
        text: `${verb} ${count(changed)} of ${count(matched)} matching jobs.`,
      });
      setPending(null);
      onDone();
    } catch (error) {
      setResult({ kind: 'error', text: messageOf(error) });
    } finally {
      setBusy(false);
    }
  };

  const n =
    pending === null
      ? 0
      : pending.action === 'retry'
        ? pending.counts.retryable
        : pending.counts.cancellable;
  return (
    <fieldset class="bulk">
      <legend class="sr-only">Bulk actions</legend>
      <button
        type="button"
        data-action="bulk-retry"
        disabled={busy}
        onClick={() => prepare('retry')}
      >
        Retry all matching…
      </button>{' '}
      <button
        type="button"
        data-action="bulk-cancel"
        disabled={busy}
        onClick={() => prepare('cancel')}
      >
        Cancel all matching…
      </button>
      {pending !== null && (
        <div class="confirm" role="alertdialog" aria-labelledby="bulk-confirm-text">
          <p id="bulk-confirm-text">
            {n === 0
              ? `No job matching ${described || 'all jobs'} can be ${pending.action === 'retry' ? 'retried (only dead or cancelled jobs)' : 'cancelled (only pending, running or waiting jobs)'}.`
              : `${pending.action === 'retry' ? 'Retry' : 'Cancel'} ${count(n)} ${
                  pending.action === 'retry' ? 'dead or cancelled' : 'unfinished'
                } jobs of the ${count(pending.counts.total)} matching ${described || 'all jobs'}?`}
          </p>
          {n > 0 && (
            <button
              type="button"
              class="danger"
              data-action="bulk-confirm"
              disabled={busy}
              onClick={confirm}
            >
              {pending.action === 'retry' ? 'Retry' : 'Cancel'} {count(n)} jobs
            </button>
          )}{' '}
          <button type="button" onClick={() => setPending(null)}>
            {n > 0 ? 'Keep them' : 'Close'}
          </button>
        </div>
      )}
      {result !== null && <Notice kind={result.kind}>{result.text}</Notice>}
    </fieldset>
  );
}
