import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { absoluteTime, pretty, relativeTime } from './format.ts';
import type { ErrorView, JobStatus } from './types.ts';

/** A status in words and colour (the colour is never the only signal). */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

/** A time, relative and absolute; `—` for none. */
export function Time({ iso }: { iso: string | null }) {
  if (iso === null) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {relativeTime(iso)} <span class="abs">{absoluteTime(iso)}</span>
    </time>
  );
}

/** JSON in a scrollable block. */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <section class="json-block" aria-label={label}>
      <pre class="json">{value === null || value === undefined ? 'null' : pretty(value)}</pre>
    </section>
  );
}

/** A stored error with its code, stack and causes. */
export function ErrorBlock({ error }: { error: ErrorView }) {
  return (
    <div class="error-block">
      <p>
        <strong>{error.name}</strong>: {error.message}
        {error.code !== null && <span class="code"> [{error.code}]</span>}
      </p>
      {error.stack !== null && (
        <details>
          <summary>Stack</summary>
          <pre class="stack">{error.stack}</pre>
        </details>
      )}
      {error.cause !== null && (
        <div class="cause">
          <span class="muted">Caused by</span>
          <ErrorBlock error={error.cause} />
        </div>
      )}
    </div>
  );
}

/** A message line: errors in red with role=alert, confirmations in green with role=status. */
export function Notice({ kind, children }: { kind: 'error' | 'ok'; children: ComponentChildren }) {
  return (
    <p class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.status} ${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** The outcome of the last action on a view, shown once. */
export interface ActionResult {
  kind: 'error' | 'ok';
  text: string;
}

/**
 * A button that runs an async action, disabled while it runs, and reports the outcome through
 * `onDone` (errors included, so a refused action is never silent).
 */
export function ActionButton({
  label,
  action,
  onDone,
  variant,
  name,
}: {
  label: string;
  action: () => Promise<string>;
  onDone: (result: ActionResult) => void;
  variant?: 'danger' | 'primary';
  name?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class={variant ?? ''}
      data-action={name}
      disabled={busy}
      aria-busy={busy}
      onClick={async () => {
        setBusy(true);
        try {
          onDone({ kind: 'ok', text: await action() });
        } catch (error) {
          onDone({ kind: 'error', text: messageOf(error) });
        } finally {
          setBusy(false);
        }
      }}
    >
      {label}
    </button>
  );
}

/** Statuses that retry applies to, and that cancel applies to. */
export const RETRYABLE: JobStatus[] = ['dead', 'cancelled'];
export const CANCELLABLE: JobStatus[] = ['pending', 'running', 'waiting'];

/** "Updated 2 s ago" under a live view, or the error of the last refresh. */
export function LiveLine({ error, updatedAt }: { error: Error | undefined; updatedAt?: number }) {
  if (error !== undefined) {
    return <Notice kind="error">Could not refresh: {messageOf(error)}</Notice>;
  }
  return (
    <p class="live muted" aria-live="off">
      Live · refreshes every 2 s
      {updatedAt !== undefined && ` · updated ${absoluteTime(new Date(updatedAt).toISOString())}`}
    </p>
  );
}
