import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { EnqueueResult, JobRecord, NewJob } from '../storage/records.ts';
import { AttemptTrace, recordError } from './attempt-trace.ts';
import { decodeTraceContext, encodeTraceContext } from './trace-context.ts';

/** `messaging.system` of every span: Reseolio is the messaging system. */
const MESSAGING_SYSTEM = 'reseolio';

/**
 * Reseolio's spans, after OpenTelemetry's messaging conventions: a job is a message, its
 * function's name the destination. `send <name>` (PRODUCER) wraps each job's insert and its
 * context is stored with the job; `process <name>` (CONSUMER) is one attempt, a child of that
 * stored context on whatever process runs it, so a saga spread over processes is one trace.
 *
 * Attributes are built only for recording spans: without an SDK every span is a no-op one,
 * and a job costs a `startSpan` that returns at once.
 */
export class Tracing {
  readonly #tracer: Tracer;

  constructor(tracer: Tracer) {
    this.#tracer = tracer;
  }

  /**
   * Starts one `send` span per job, each a child of the caller's active span, and stores
   * its context in the job (`traceContext`). One span per job rather than one per batch: each
   * job's attempts then hang under their own send span, the "creation context" the messaging
   * conventions ask every message to have, and a batch of 1,000 jobs does not make one span
   * with 1,000 links that no backend shows well.
   */
  startSends(jobs: readonly NewJob[]): SendSpans {
    const parent = context.active();
    const spans = jobs.map((job) => {
      const span = this.#tracer.startSpan(`send ${job.name}`, { kind: SpanKind.PRODUCER }, parent);
      if (span.isRecording()) {
        span.setAttributes(messagingAttributes('send', job.name, job.id));
      }
      job.traceContext = encodeTraceContext(span.spanContext());
      return span;
    });
    return new SendSpans(spans);
  }

  /**
   * The `process` span of an attempt of `record`: a child of the job's stored context (not of
   * whatever context the claim ran in), or a root when the job has none.
   */
  startProcess(record: JobRecord): AttemptTrace {
    const stored = decodeTraceContext(record.traceContext);
    const parent = stored === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, stored);
    const span = this.#tracer.startSpan(
      `process ${record.name}`,
      { kind: SpanKind.CONSUMER },
      parent,
    );
    if (span.isRecording()) {
      const attributes = messagingAttributes('process', record.name, record.id);
      attributes['reseolio.job.attempt'] = record.attempt;
      span.setAttributes(attributes);
    }
    return new AttemptTrace(this.#tracer, span, parent);
  }
}

/** The `send` spans of one insert (one job or a batch), ended together once it answers. */
export class SendSpans {
  readonly #spans: Span[];

  constructor(spans: Span[]) {
    this.#spans = spans;
  }

  /**
   * The insert answered: each span names the job that stands for it (the existing one when
   * the call was deduplicated) and ends. `results` is empty when nothing was stored (a
   * schedule tick another node fired).
   */
  stored(results: readonly EnqueueResult[]): void {
    this.#spans.forEach((span, i) => {
      const result = results[i];
      if (result !== undefined && span.isRecording()) {
        span.setAttribute('messaging.message.id', result.job.id);
        if (result.deduplicated) span.setAttribute('reseolio.job.deduplicated', true);
      }
      span.end();
    });
  }

  /** The insert failed: every span records the error and ends. */
  failed(error: unknown): void {
    for (const span of this.#spans) {
      if (span.isRecording()) recordError(span, error);
      span.end();
    }
  }
}

function messagingAttributes(
  operation: 'send' | 'process',
  name: string,
  jobId: string,
): Attributes {
  return {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': name,
    'messaging.message.id': jobId,
  };
}
