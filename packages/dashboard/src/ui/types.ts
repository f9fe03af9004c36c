/** The API's answers, as the page reads them (see src/api on the server). */

import type { Alert, AttemptView, ErrorView, FunctionOverview, JobStatus } from '../wire-types.ts';

export type { AttemptView, ErrorView, FunctionOverview, JobStatus };

export const JOB_STATUSES: JobStatus[] = [
  'pending',
  'running',
  'waiting',
  'success',
  'dead',
  'cancelled',
];

export interface JobView {
  id: string;
  name: string;
  status: JobStatus;
  args: unknown;
  result: unknown;
  error: { name: string; message: string; code?: string } | null;
  errorDetail: ErrorView | null;
  attempt: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  parentId: string | null;
  scheduleId: string | null;
  priority: number;
  concurrencyKey: string | null;
  rateLimitKey: string | null;
  waitingFor:
    | { kind: 'sleep'; until: string }
    | { kind: 'signal'; topic: string; until: string | null }
    | { kind: 'children'; jobIds: string[] }
    | null;
  progress: unknown;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  completedAt: string | null;
  attempts: AttemptView[] | null;
  /** The workflow's journal (job page only; absent in lists). */
  steps?: StepView[];
}

export interface StepView {
  kind: 'step' | 'sleep' | 'signal';
  name: string | null;
  occurrence: number;
  value: unknown;
  recordedAt: string;
}

export interface Overview {
  at: string;
  totals: Record<JobStatus, number>;
  functions: FunctionOverview[];
  recentFailures: JobView[];
  alerts: Alert[];
  stuckAfterMs: number;
  bucketMs: number;
}

export interface JobList {
  jobs: JobView[];
  limit: number;
  next: string | null;
}

export interface JobPage {
  job: JobView;
  parent: JobView | null;
  children: JobView[];
  childrenTruncated: boolean;
  siblings: JobView[];
}

export interface ScheduleView {
  id: string;
  name: string;
  cron: string;
  cronText: string;
  timezone: string;
  args: unknown;
  status: 'active' | 'paused';
  catchUp: string;
  overlap: string;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastJobId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Settings {
  title: string;
  readOnly: boolean;
}
