import { getJson } from '../api.ts';
import { LiveLine, Notice, StatusBadge, Time } from '../components.tsx';
import { count, duration } from '../format.ts';
import { usePoll } from '../poll.ts';
import { href } from '../router.ts';
import { type FunctionOverview, JOB_STATUSES, type Overview } from '../types.ts';

export function OverviewView() {
  const { data, error, updatedAt } = usePoll('overview', (signal) =>
    getJson<Overview>('overview', signal),
  );
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <LiveLine error={error} updatedAt={updatedAt} />
      {data === undefined ? (
        error === undefined && <p class="muted">Loading…</p>
      ) : (
        <>
          <ul class="totals" aria-label="Jobs by status">
            {JOB_STATUSES.map((status) => (
              <li key={status}>
                <a href={href('/jobs', { status })} class={`total status-${status}`}>
                  <span class="total-count">{count(data.totals[status])}</span>
                  <span class="total-label">{status}</span>
                </a>
              </li>
            ))}
          </ul>
          <Alerts alerts={data.alerts} />
          <h3>Functions</h3>
          {data.functions.length === 0 ? (
            <p class="muted">No jobs stored yet.</p>
          ) : (
            <div class="table-wrap">
              <table class="functions">
                <caption class="sr-only">Jobs per function and status</caption>
                <thead>
                  <tr>
                    <th scope="col">Function</th>
                    {JOB_STATUSES.map((status) => (
                      <th scope="col" key={status} class="num">
                        {status}
                      </th>
                    ))}
                    <th scope="col">Oldest pending</th>
                    <th scope="col">Last hour</th>
                  </tr>
                </thead>
                <tbody>
                  {data.functions.map((fn) => (
                    <FunctionRow key={fn.name} fn={fn} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>Recent failures</h3>
          {data.recentFailures.length === 0 ? (
            <p class="muted">No dead jobs.</p>
          ) : (
            <ul class="failures">
              {data.recentFailures.map((job) => (
                <li key={job.id}>
                  <a href={href(`/jobs/${job.id}`)}>{job.name}</a>{' '}
                  <StatusBadge status={job.status} />{' '}
                  <span class="error-text">
                    {job.error ? `${job.error.name}: ${job.error.message}` : 'no error stored'}
                  </span>{' '}
                  <Time iso={job.completedAt ?? job.createdAt} />
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

function Alerts({ alerts }: { alerts: Overview['alerts'] }) {
  if (alerts.length === 0) {
    return <Notice kind="ok">No stuck work.</Notice>;
  }
  return (
    <div class="alerts" role="alert">
      <h3>Alerts</h3>
      <ul>
        {alerts.map((alert) => (
          <li key={`${alert.kind}:${alert.function}`} class={`alert alert-${alert.kind}`}>
            <strong>{alert.kind === 'stuck' ? 'Stuck' : 'No worker'}</strong> {alert.message}{' '}
            <a href={href('/jobs', { name: alert.function, status: 'pending' })}>
              See pending jobs
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

function FunctionRow({ fn }: { fn: FunctionOverview }) {
  return (
    <tr>
      <th scope="row">
        <a href={href('/jobs', { name: fn.name })}>{fn.name}</a>
      </th>
      {JOB_STATUSES.map((status) => (
        <td key={status} class="num">
          {fn.counts[status] === 0 ? (
            <span class="muted">0</span>
          ) : (
            <a
              href={href('/jobs', { name: fn.name, status })}
              class={`count status-text-${status}`}
            >
              {count(fn.counts[status])}
            </a>
          )}
        </td>
      ))}
      <td>
        {fn.oldestPendingAgeMs === null ? (
          <span class="muted">—</span>
        ) : (
          duration(fn.oldestPendingAgeMs)
        )}
      </td>
      <td>
        <Sparkline fn={fn} />
        <span class="lasthour">
          {count(fn.lastHour.success)} ok · {count(fn.lastHour.dead)} dead ·{' '}
          {count(fn.lastHour.cancelled)} cancelled
        </span>
      </td>
    </tr>
  );
}

/** Finished jobs per bucket over the last hour: successes up, failures in red on top. */
function Sparkline({ fn }: { fn: FunctionOverview }) {
  const max = Math.max(1, ...fn.throughput.map((b) => b.success + b.dead + b.cancelled));
  const width = 4;
  const height = 24;
  return (
    <svg
      class="spark"
      width={fn.throughput.length * (width + 1)}
      height={height}
      role="img"
      aria-label={`Finished jobs of ${fn.name} per 5 minutes over the last hour`}
    >
      {fn.throughput.map((bucket, i) => {
        const ok = (bucket.success / max) * height;
        const bad = ((bucket.dead + bucket.cancelled) / max) * height;
        return (
          <g key={bucket.bucketStart}>
            <rect x={i * (width + 1)} y={height - ok} width={width} height={ok} class="spark-ok" />
            <rect
              x={i * (width + 1)}
              y={height - ok - bad}
              width={width}
              height={bad}
              class="spark-bad"
            />
          </g>
        );
      })}
    </svg>
  );
}
