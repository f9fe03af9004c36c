import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';

/**
 * How an attempt ended, as the `reseolio.job.outcome` attribute of its `process` span:
 * `success`; `retry` (failed, another attempt follows); `dead` (failed, the last); `suspended`
 * (waits for time, a signal or children; a later attempt resumes it); `released` (handed back
 * unrun by `stop()`); `cancelled`; `lost` (its lease was lost or its outcome fenced out:
 * another node owns the job now).
 */
export type ProcessOutcome =
  | 'success'
  | 'retry'
  | 'dead'
  | 'suspended'
  | 'released'
  | 'cancelled'
  | 'lost';

/** The attribute that carries a process span's {@link ProcessOutcome}. */
export const OUTCOME_ATTRIBUTE = 'reseolio.job.outcome';

/**
 * The trace of one attempt: its `process <name>` span, active while the handler runs (so the
 * handler's own spans and its children's `send` spans are its children), with its steps as
 * child spans and its waits as events. Ends exactly once, whatever way the attempt ends.
 */
export class AttemptTrace {
  readonly #tracer: Tracer;
  readonly #span: Span;
  readonly #context: Context;
  #ended = false;

  constructor(tracer: Tracer, span: Span, parent: Context) {
    this.#tracer = tracer;
    this.#span = span;
    this.#context = trace.setSpan(parent, span);
  }

  /** Runs `fn` with the attempt's span active. */
  run<T>(fn: () => T): T {
    return context.with(this.#context, fn);
  }

  /** The attempt failed with `error` (thrown, timed out, lost its lease): ERROR status. */
  failed(error: unknown): void {
    if (this.#ended || !this.#span.isRecording()) return;
    recordError(this.#span, error);
  }

  /**
   * An event on the attempt's span (a wait, a replayed step); `attributes` is called only
   * when the span records.
   */
  event(name: string, attributes: () => Attributes): void {
    if (this.#ended || !this.#span.isRecording()) return;
    this.#span.addEvent(name, attributes());
  }

  /** Ends the span with `outcome`; later calls change nothing. */
  end(outcome: ProcessOutcome): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#span.isRecording()) this.#span.setAttribute(OUTCOME_ATTRIBUTE, outcome);
    this.#span.end();
  }

  /**
   * Runs a step's function under a child span `step <name>`: a child of the span active where
   * `step()` was called (a span the handler opened), else of the attempt's span.
   */
  async step<T>(name: string, fn: () => T | Promise<T>): Promise<Awaited<T>> {
    const active = context.active();
    const parent = trace.getSpan(active) === undefined ? this.#context : active;
    const span = this.#tracer.startSpan(`step ${name}`, undefined, parent);
    if (span.isRecording()) span.setAttribute('reseolio.step.name', name);
    try {
      return await context.with(trace.setSpan(parent, span), fn);
    } catch (error) {
      if (span.isRecording()) recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

/** Records `error` as an exception event and sets the span's status to ERROR. */
export function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
