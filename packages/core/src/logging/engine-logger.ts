import type { Logger } from '../types.ts';

/** The levels the engine logs at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The job a log line is about. */
export interface LoggedJob {
  id: string;
  name: string;
  /** The attempt, when the line is about one. */
  attempt?: number | undefined;
}

/**
 * The user's {@link Logger} as the engine calls it: every level present, and lines about a
 * job written by {@link EngineLogger.job}, which puts the job's id and name in the text and,
 * where the logger takes them, in structured fields.
 */
export interface EngineLogger {
  debug(message: string, ...meta: unknown[]): void;
  info(message: string, ...meta: unknown[]): void;
  warn(message: string, ...meta: unknown[]): void;
  error(message: string, ...meta: unknown[]): void;
  /**
   * One line about one job: `job <id> (<name>) attempt <n>: <message>`, with the fields
   * `{ jobId, jobName, attempt }` (and `err` for an error) where the logger takes fields.
   */
  job(level: LogLevel, job: LoggedJob, message: string, error?: unknown): void;
}

/**
 * How a logger takes fields, told by its methods:
 * - `pino`: it has `bindings()` (pino, and Fastify's `app.log`, which is pino): fields go
 *   first as the merge object, `(fields, message)`; pino would drop objects after the message.
 * - `nest`: it has `log` but no `info` (Nest's `Logger` and `ConsoleLogger`): one string, since
 *   Nest prints each extra argument on its own line and takes a trailing string for its
 *   context; an error's stack goes to `error(message, stack)`, as Nest expects.
 * - `console`: anything else (console, winston…): `(message, fields, ...meta)`.
 */
type LoggerStyle = 'pino' | 'nest' | 'console';

type Method = (...args: unknown[]) => void;

export function toEngineLogger(logger: Logger): EngineLogger {
  const methods = logger as unknown as Record<string, Method | undefined>;
  const style: LoggerStyle =
    typeof methods.bindings === 'function'
      ? 'pino'
      : typeof methods.info !== 'function' && typeof methods.log === 'function'
        ? 'nest'
        : 'console';
  const methodOf = (level: LogLevel): Method | undefined => {
    const method = level === 'info' ? (methods.info ?? methods.log) : methods[level];
    return method?.bind(logger);
  };
  const writers = {
    debug: writer(style, methodOf('debug'), 'debug'),
    info: writer(style, methodOf('info'), 'info'),
    warn: writer(style, methodOf('warn'), 'warn'),
    error: writer(style, methodOf('error'), 'error'),
  };
  return {
    debug: (message, ...meta) => writers.debug(message, undefined, meta),
    info: (message, ...meta) => writers.info(message, undefined, meta),
    warn: (message, ...meta) => writers.warn(message, undefined, meta),
    error: (message, ...meta) => writers.error(message, undefined, meta),
    job(level, job, message, error) {
      const attempt = job.attempt === undefined ? '' : ` attempt ${job.attempt}`;
      const fields: Record<string, unknown> = { jobId: job.id, jobName: job.name };
      if (job.attempt !== undefined) fields.attempt = job.attempt;
      writers[level](
        `job ${job.id} (${job.name})${attempt}: ${message}`,
        fields,
        error === undefined ? [] : [error],
      );
    },
  };
}

type Writer = (text: string, fields: Record<string, unknown> | undefined, meta: unknown[]) => void;

function writer(style: LoggerStyle, method: Method | undefined, level: LogLevel): Writer {
  if (method === undefined) return () => {};
  switch (style) {
    case 'pino':
      return (text, fields, meta) => {
        const merged: Record<string, unknown> = { ...fields };
        const errors = meta.filter((item) => item instanceof Error);
        const rest = meta.filter((item) => !(item instanceof Error) && item !== undefined);
        // pino serializes `err` (stack included); other values stay as data.
        if (errors.length > 0) merged.err = errors[0];
        if (rest.length > 0) merged.meta = rest;
        if (Object.keys(merged).length === 0) method(text);
        else method(merged, text);
      };
    case 'nest':
      return (text, _fields, meta) => {
        const error = level === 'error' ? withStack(meta) : undefined;
        const shown = meta.filter((item) => item !== undefined && item !== error);
        const line = [text, ...shown.map(describe)].join(' ');
        if (error === undefined) method(line);
        else method(line, error.stack);
      };
    case 'console':
      return (text, fields, meta) => {
        const rest = meta.filter((item) => item !== undefined);
        if (fields === undefined) method(text, ...rest);
        else method(text, fields, ...rest);
      };
  }
}

/**
 * The first error, when its stack is one Nest recognises as a stack: any other string after
 * the message, Nest would take for the context.
 */
function withStack(meta: unknown[]): Error | undefined {
  const error = meta.find((item) => item instanceof Error);
  return error?.stack !== undefined && /\n\s+at /.test(error.stack) ? error : undefined;
}

function describe(item: unknown): string {
  if (item instanceof Error) return `${item.name}: ${item.message}`;
  if (typeof item === 'string') return item;
  try {
    return JSON.stringify(item) ?? String(item);
  } catch {
    return String(item);
  }
}
