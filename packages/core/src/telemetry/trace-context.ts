import {
  createTraceState,
  INVALID_SPANID,
  INVALID_TRACEID,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
} from '@opentelemetry/api';

/**
 * A job's stored trace context (`JobRecord.traceContext`): the W3C `traceparent` and
 * `tracestate` of the span that enqueued it, as JSON. Written and read here, from and to a
 * `SpanContext`, rather than through the app's registered propagator: whatever propagator an
 * app uses (B3, Jaeger, none), the stored form is the same, so every process of a saga reads
 * what any other wrote.
 */

/** Stored contexts longer than this are refused (the column's documented bound). */
export const MAX_TRACE_CONTEXT_LENGTH = 1024;
/** W3C tracestate: at most 32 list members; longer ones are dropped rather than stored. */
const MAX_TRACESTATE_LENGTH = 512;

/**
 * What {@link encodeTraceContext} writes when there is no tracestate (nearly always):
 * `{"traceparent":"00-<32 hex>-<16 hex>-<2 hex>"}`. Read by slicing, without `JSON.parse`:
 * every attempt of a traced job decodes one, on the worker's hot path.
 */
const PLAIN_PREFIX = '{"traceparent":"';
const PLAIN_SUFFIX = '"}';
const PLAIN_LENGTH = PLAIN_PREFIX.length + 55 + PLAIN_SUFFIX.length;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** The stored form of `spanContext`, or null when it is not a valid one (no trace). */
export function encodeTraceContext(spanContext: SpanContext): string | null {
  if (!isSpanContextValid(spanContext)) return null;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize();
  return tracestate && tracestate.length <= MAX_TRACESTATE_LENGTH
    ? JSON.stringify({ traceparent, tracestate })
    : JSON.stringify({ traceparent });
}

/**
 * The remote span context a stored value names, or undefined when there is none or it is
 * malformed (written by hand, truncated, another version): a job with a bad context still
 * runs, in a trace of its own. Only own string properties are read from the parsed JSON, and
 * nothing of it is kept but the validated fields: stored data never chooses a prototype.
 */
export function decodeTraceContext(stored: string | null): SpanContext | undefined {
  if (stored === null || stored.length > MAX_TRACE_CONTEXT_LENGTH) return undefined;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  if (
    stored.length === PLAIN_LENGTH &&
    stored.startsWith(PLAIN_PREFIX) &&
    stored.endsWith(PLAIN_SUFFIX)
  ) {
    // The 55 characters between the quotes are validated below like any other traceparent;
    // a quote or backslash among them fails the pattern.
    traceparent = stored.slice(PLAIN_PREFIX.length, PLAIN_LENGTH - PLAIN_SUFFIX.length);
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    traceparent = ownString(parsed, 'traceparent');
    tracestate = ownString(parsed, 'tracestate');
  }
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  // Version ff is forbidden; version 00 has exactly four fields (later ones may add more).
  if (version === 'ff' || (version === '00' && traceparent!.length !== 55)) return undefined;
  // The pattern fixed both ids' form; what is left of validity is "not all zeros".
  if (traceId === INVALID_TRACEID || spanId === INVALID_SPANID) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (tracestate !== undefined && tracestate.length <= MAX_TRACESTATE_LENGTH) {
    spanContext.traceState = createTraceState(tracestate);
  }
  return spanContext;
}

function ownString(value: object, key: string): string | undefined {
  if (!Object.hasOwn(value, key)) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}
