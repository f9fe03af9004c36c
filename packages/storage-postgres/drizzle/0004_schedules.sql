-- Schedules (cron). One row per schedule; the engine computes ticks, storage claims them with a
-- compare-and-set on next_run_at in the same transaction that inserts the tick's jobs (see
-- src/queries/fire-schedule.ts). Jobs record the schedule that made them in schedule_id (no
-- foreign key: deleting a schedule keeps its runs). Adding a nullable column without a default
-- only changes the catalog, so the upgrade does not rewrite the jobs table; claim_jobs returns
-- SETOF jobs, so it returns the new column without being replaced. The new jobs index is built
-- in the migration's transaction (no CONCURRENTLY there): it scans the jobs table once under a
-- SHARE lock, blocking job writes meanwhile, though it indexes no existing row (all are NULL).
CREATE TABLE "reseolio"."schedules" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"args" text NOT NULL,
	"status" text NOT NULL,
	"catch_up" text NOT NULL,
	"overlap" text NOT NULL,
	"catch_up_window_ms" bigint NOT NULL,
	"next_run_at" bigint,
	"last_run_at" bigint,
	"last_job_id" uuid,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "schedules_status_check" CHECK ("reseolio"."schedules"."status" in ('active', 'paused')),
	CONSTRAINT "schedules_catch_up_check" CHECK ("reseolio"."schedules"."catch_up" in ('skip', 'latest', 'all')),
	CONSTRAINT "schedules_overlap_check" CHECK ("reseolio"."schedules"."overlap" in ('allow', 'skip'))
);
--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD COLUMN "schedule_id" text;--> statement-breakpoint
CREATE INDEX "schedules_due_idx" ON "reseolio"."schedules" USING btree ("next_run_at","id") WHERE "reseolio"."schedules"."status" = 'active' and "reseolio"."schedules"."next_run_at" is not null;--> statement-breakpoint
CREATE INDEX "jobs_schedule_idx" ON "reseolio"."jobs" USING btree ("schedule_id","id") WHERE "reseolio"."jobs"."schedule_id" is not null;