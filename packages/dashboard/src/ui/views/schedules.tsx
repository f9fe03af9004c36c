import { useState } from 'preact/hooks';
import { getJson, postJson } from '../api.ts';
import {
  ActionButton,
  type ActionResult,
  LiveLine,
  Notice,
  StatusBadge,
  Time,
} from '../components.tsx';
import { usePoll } from '../poll.ts';
import { href } from '../router.ts';
import type { ScheduleView, Settings } from '../types.ts';

export function SchedulesView({ settings }: { settings: Settings }) {
  const { data, error, updatedAt, refresh } = usePoll('schedules', (signal) =>
    getJson<{ schedules: ScheduleView[] }>('schedules', signal),
  );
  const [result, setResult] = useState<ActionResult | null>(null);
  const done = (outcome: ActionResult) => {
    setResult(outcome);
    refresh();
  };
  return (
    <section aria-labelledby="schedules-title">
      <h2 id="schedules-title">Schedules</h2>
      <LiveLine error={error} updatedAt={updatedAt} />
      {result !== null && <Notice kind={result.kind}>{result.text}</Notice>}
      {data === undefined ? (
        error === undefined && <p class="muted">Loading…</p>
      ) : data.schedules.length === 0 ? (
        <p class="muted">No schedules. Declare one with reseolio.schedule(id, fn, {'{ cron }'}).</p>
      ) : (
        <div class="table-wrap">
          <table class="schedules">
            <caption class="sr-only">Schedules by id</caption>
            <thead>
              <tr>
                <th scope="col">Schedule</th>
                <th scope="col">Function</th>
                <th scope="col">When</th>
                <th scope="col">Time zone</th>
                <th scope="col">Status</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                {!settings.readOnly && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data.schedules.map((schedule) => (
                <tr key={schedule.id} data-schedule-id={schedule.id}>
                  <th scope="row">
                    <a href={href('/jobs', { scheduleId: schedule.id })}>{schedule.id}</a>
                  </th>
                  <td>{schedule.name}</td>
                  <td>
                    {schedule.cronText}
                    <br />
                    <code class="muted">{schedule.cron}</code>
                  </td>
                  <td>{schedule.timezone}</td>
                  <td>
                    <StatusBadge status={schedule.status} />
                  </td>
                  <td>
                    {schedule.status === 'paused' ? (
                      <span class="muted">paused</span>
                    ) : (
                      <Time iso={schedule.nextRunAt} />
                    )}
                  </td>
                  <td>
                    <Time iso={schedule.lastRunAt} />
                    {schedule.lastJobId !== null && (
                      <>
                        {' '}
                        <a href={href(`/jobs/${schedule.lastJobId}`)}>job</a>
                      </>
                    )}
                  </td>
                  {!settings.readOnly && (
                    <td class="actions">
                      {schedule.status === 'active' ? (
                        <ActionButton
                          name="pause"
                          label="Pause"
                          action={async () => {
                            await postJson(`schedules/${encodeURIComponent(schedule.id)}/pause`);
                            return `Paused ${schedule.id}.`;
                          }}
                          onDone={done}
                        />
                      ) : (
                        <ActionButton
                          name="resume"
                          label="Resume"
                          action={async () => {
                            await postJson(`schedules/${encodeURIComponent(schedule.id)}/resume`);
                            return `Resumed ${schedule.id}.`;
                          }}
                          onDone={done}
                        />
                      )}{' '}
                      <ActionButton
                        name="trigger"
                        label="Run now"
                        variant="primary"
                        action={async () => {
                          const { jobId } = await postJson<{ jobId: string }>(
                            `schedules/${encodeURIComponent(schedule.id)}/trigger`,
                          );
                          return `Triggered ${schedule.id}: job ${jobId}.`;
                        }}
                        onDone={done}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
