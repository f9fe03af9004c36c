import { useState } from 'preact/hooks';
import { getJson, postJson } from '../api.ts';
import {
  ActionButton,
  type ActionResult,
  CANCELLABLE,
  ErrorBlock,
  JsonBlock,
  LiveLine,
  Notice,
  RETRYABLE,
  StatusBadge,
  Time,
} from '../components.tsx';
import { duration, shortId } from '../format.ts';
import { usePoll } from '../poll.ts';
import { href } from '../router.ts';
import type { AttemptView, JobPage, JobView, Settings, StepView } from '../types.ts';

export function JobPageView({ id, settings }: { id: string; settings: Settings }) {
  const path = `jobs/${encodeURIComponent(id)}`;
  const { data, error, updatedAt, refresh } = usePoll(path, (signal) =>
    getJson<JobPage>(path, signal),
  );
  const [result, setResult] = useState<ActionResult | null>(null);
  const done = (outcome: ActionResult) => {
    setResult(outcome);
    refresh();
  };
  if (data === undefined) {
    return (
      <section>
        <h2>Job {id}</h2>
        <LiveLine error={error} />
        {error === undefined && <p class="muted">Loading…</p>}
      </section>
    );
  }
  const { job } = data;
  return (
    <section aria-labelledby="job-title">
      <p class="crumbs">
        <a href={href('/jobs')}>Jobs</a> ›{' '}
        <a href={href('/jobs', { name: job.name })}>{job.name}</a>
      </p>
      <h2 id="job-title">
        {job.name} <StatusBadge status={job.status} />
      </h2>
      <p class="mono muted">{job.id}</p>
      <LiveLine error={error} updatedAt={updatedAt} />
      {!settings.readOnly && (
        <fieldset class="actions">
          <legend class="sr-only">Job actions</legend>
          {RETRYABLE.includes(job.status) && (
            <ActionButton
              name="retry"
              label="Retry"
              variant="primary"
              action={async () => {
                await postJson(`${path}/retry`);
                return 'Retried: the job is pending again from attempt 1.';
              }}
              onDone={done}
            />
          )}
          {CANCELLABLE.includes(job.status) && (
            <ActionButton
              name="cancel"
              label="Cancel"
              variant="danger"
              action={async () => {
                await postJson(`${path}/cancel`);
                return 'Cancelled.';
              }}
              onDone={done}
            />
          )}
          {CANCELLABLE.includes(job.status) && <SignalForm path={path} onDone={done} />}
        </fieldset>
      )}
      {result !== null && <Notice kind={result.kind}>{result.text}</Notice>}

      <div class="job-grid">
        <dl class="facts">
          <dt>Attempt</dt>
          <dd>
            {job.attempt} of {job.maxAttempts}
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={job.createdAt} />
          </dd>
          <dt>Runs at</dt>
          <dd>
            <Time iso={job.runAt} />
          </dd>
          <dt>Started</dt>
          <dd>
            <Time iso={job.startedAt} />
          </dd>
          <dt>Finished</dt>
          <dd>
            <Time iso={job.completedAt} />
          </dd>
          <dt>Idempotency key</dt>
          <dd class="mono">{job.idempotencyKey ?? '—'}</dd>
          <dt>Schedule</dt>
          <dd>
            {job.scheduleId === null ? (
              '—'
            ) : (
              <a href={href('/jobs', { scheduleId: job.scheduleId })}>{job.scheduleId}</a>
            )}
          </dd>
          <dt>Priority</dt>
          <dd>{job.priority}</dd>
          {job.concurrencyKey !== null && (
            <>
              <dt>Concurrency key</dt>
              <dd class="mono">{job.concurrencyKey}</dd>
            </>
          )}
          {job.rateLimitKey !== null && (
            <>
              <dt>Rate-limit key</dt>
              <dd class="mono">{job.rateLimitKey}</dd>
            </>
          )}
          {job.waitingFor !== null && (
            <>
              <dt>Waiting for</dt>
              <dd class="waiting-for">
                <WaitingFor job={job} />
              </dd>
            </>
          )}
          {job.progress !== null && (
            <>
              <dt>Progress</dt>
              <dd>
                <Progress value={job.progress} />
              </dd>
            </>
          )}
        </dl>
        <Tree page={data} />
      </div>

      <h3>Arguments</h3>
      <JsonBlock value={job.args} label="Arguments" />
      {job.status === 'success' && (
        <>
          <h3>Result</h3>
          <JsonBlock value={job.result} label="Result" />
        </>
      )}
      {job.errorDetail !== null && (
        <>
          <h3>Error</h3>
          <ErrorBlock error={job.errorDetail} />
        </>
      )}
      <h3>Attempts</h3>
      <Attempts attempts={job.attempts ?? []} />
      {job.steps !== undefined && job.steps.length > 0 && (
        <>
          <h3>Workflow</h3>
          <Steps steps={job.steps} />
        </>
      )}
    </section>
  );
}

function WaitingFor({ job }: { job: JobView }) {
  const wait = job.waitingFor!;
  if (wait.kind === 'sleep') {
    return (
      <>
        a sleep until <Time iso={wait.until} />
      </>
    );
  }
  if (wait.kind === 'signal') {
    return (
      <>
        the signal <code>{wait.topic}</code>
        {wait.until !== null && (
          <>
            {' '}
            until <Time iso={wait.until} />
          </>
        )}
      </>
    );
  }
  return <>{wait.jobIds.length} child job(s) to finish</>;
}

function Progress({ value }: { value: unknown }) {
  if (typeof value === 'number' && value >= 0 && value <= 1) {
    return (
      <>
        <progress value={value} max={1} aria-label="Progress" /> {Math.round(value * 100)}%
      </>
    );
  }
  return <JsonBlock value={value} label="Progress" />;
}

/** The parent, this job and its children, as a tree: a saga at a glance. */
function Tree({ page }: { page: JobPage }) {
  const { job, parent, children } = page;
  const self = (
    <li class="tree-self" key={job.id}>
      <TreeNode job={job} current />
      {children.length > 0 && (
        <ul>
          {children.map((child) => (
            <li key={child.id}>
              <TreeNode job={child} />
            </li>
          ))}
          {page.childrenTruncated && (
            <li>
              <a href={href('/jobs', { parentId: job.id })}>All children…</a>
            </li>
          )}
        </ul>
      )}
    </li>
  );
  return (
    <nav class="tree" aria-label="Parent and children">
      <h3>Parent and children</h3>
      {parent === null && children.length === 0 ? (
        <p class="muted">No parent, no children.</p>
      ) : (
        <ul>
          {parent !== null ? (
            <li>
              <TreeNode job={parent} />
              <ul>
                {siblingsAround(page).map((sibling) =>
                  sibling.id === job.id ? (
                    self
                  ) : (
                    <li key={sibling.id}>
                      <TreeNode job={sibling} />
                    </li>
                  ),
                )}
              </ul>
            </li>
          ) : (
            self
          )}
        </ul>
      )}
    </nav>
  );
}

/** The parent's children in order, this job among them (added if the list missed it). */
function siblingsAround({ job, siblings }: JobPage): JobView[] {
  return siblings.some((sibling) => sibling.id === job.id) ? siblings : [...siblings, job];
}

function TreeNode({ job, current }: { job: JobView; current?: boolean }) {
  const label = (
    <>
      {job.name} <StatusBadge status={job.status} />{' '}
      <span class="muted">
        attempt {job.attempt}/{job.maxAttempts} · {shortId(job.id)}
      </span>
    </>
  );
  return current ? (
    <strong aria-current="page">{label}</strong>
  ) : (
    <a href={href(`/jobs/${job.id}`)} data-tree-job={job.name}>
      {label}
    </a>
  );
}

function Attempts({ attempts }: { attempts: AttemptView[] }) {
  if (attempts.length === 0) return <p class="muted">No attempt yet.</p>;
  return (
    <div class="table-wrap">
      <table class="attempts">
        <caption class="sr-only">Every attempt, oldest first</caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              #
            </th>
            <th scope="col">Started</th>
            <th scope="col">Ended</th>
            <th scope="col">Took</th>
            <th scope="col">Outcome</th>
            <th scope="col">Worker</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={attempt.attempt} data-attempt={attempt.attempt}>
              <td class="num">{attempt.attempt}</td>
              <td>
                <Time iso={attempt.startedAt} />
              </td>
              <td>
                <Time iso={attempt.endedAt} />
              </td>
              <td>
                {attempt.endedAt === null
                  ? '—'
                  : duration(
                      new Date(attempt.endedAt).getTime() - new Date(attempt.startedAt).getTime(),
                    )}
              </td>
              <td>
                <span class={`badge outcome-${attempt.outcome}`}>{attempt.outcome}</span>
              </td>
              <td class="mono">{attempt.workerId ?? '—'}</td>
              <td>{attempt.error === null ? '' : <ErrorBlock error={attempt.error} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The workflow's journal: each step that ran, each sleep, each signal received. */
function Steps({ steps }: { steps: StepView[] }) {
  return (
    <div class="table-wrap">
      <table class="steps">
        <caption class="sr-only">
          Steps, sleeps and signals, in the order they were recorded
        </caption>
        <thead>
          <tr>
            <th scope="col">Recorded</th>
            <th scope="col">Kind</th>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((step) => (
            <tr
              key={`${step.kind}:${step.name}#${step.occurrence}`}
              data-step={step.kind === 'sleep' ? 'sleep' : `${step.kind}:${step.name}`}
            >
              <td>
                <Time iso={step.recordedAt} />
              </td>
              <td>
                <span class={`badge step-${step.kind}`}>{step.kind}</span>
              </td>
              <td class="mono">
                {step.name ?? '—'}
                {step.occurrence > 0 && <span class="muted"> #{step.occurrence + 1}</span>}
              </td>
              <td>
                {step.kind === 'sleep' ? (
                  <>
                    until <Time iso={String(step.value)} />
                  </>
                ) : (
                  <JsonBlock
                    value={step.value}
                    label={`Value of ${step.kind} ${step.name ?? ''}`}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Sends a signal: a topic and a JSON payload, checked here before it is sent. */
function SignalForm({ path, onDone }: { path: string; onDone: (result: ActionResult) => void }) {
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="signal"
      aria-label="Send a signal"
      onSubmit={async (event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        const topic = String(form.get('topic') ?? '').trim();
        const text = String(form.get('payload') ?? '').trim();
        if (topic === '') {
          onDone({ kind: 'error', text: 'Give the signal a topic.' });
          return;
        }
        let payload: unknown;
        try {
          payload = text === '' ? undefined : JSON.parse(text);
        } catch (error) {
          onDone({
            kind: 'error',
            text: `The payload is not valid JSON: ${(error as Error).message}`,
          });
          return;
        }
        setBusy(true);
        try {
          const { duplicate } = await postJson<{ duplicate: boolean }>(
            `${path}/signals/${encodeURIComponent(topic)}`,
            payload === undefined ? {} : { payload },
          );
          onDone({
            kind: 'ok',
            text: duplicate ? `Signal ${topic} was already sent.` : `Signal ${topic} sent.`,
          });
        } catch (error) {
          onDone({
            kind: 'error',
            text: (error as Error).message,
          });
        } finally {
          setBusy(false);
        }
      }}
    >
      <label>
        Signal topic
        <input name="topic" required placeholder="approved" />
      </label>
      <label>
        Payload (JSON)
        <textarea name="payload" rows={2} placeholder='{"by": "ops"}' />
      </label>
      <button type="submit" disabled={busy} data-action="signal">
        Send signal
      </button>
    </form>
  );
}
