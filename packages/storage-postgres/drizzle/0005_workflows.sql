-- Durable workflows (issue 14). A job can be `waiting`: suspended by its handler (a sleep, a
-- signal wait, children it awaits), with no owner and no lease, claimable again at run_at or
-- earlier when what it waits for happens. `waiting_for` is what it waits for as the engine
-- serialized it; `wake_topic` and `wake_children` are the adapter's own record of what wakes it
-- (see src/queries/suspend-job.ts). Steps (recorded results of a handler) and signals live in
-- their own tables, deleted with their job (ON DELETE CASCADE: purge needs no change).
--
-- Claims now take pending and waiting jobs whose run_at came, so the claim index covers both
-- statuses (its predicate is the claim's condition word for word, or the planner could not use
-- it) and claim_jobs is replaced to match, with the same planner settings (see 0001) and
-- clearing the wait columns. The new columns are nullable without defaults: catalog-only. The
-- status CHECK is re-added and so validated against every job row, and the new index is built
-- (a SHARE lock) in the migration's transaction: both scan the jobs table once, blocking job
-- writes meanwhile.
CREATE TABLE "reseolio"."signals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"topic" text NOT NULL,
	"payload" text NOT NULL,
	"idempotency_key" text,
	"created_at" bigint NOT NULL,
	"consumed_at" bigint,
	CONSTRAINT "signals_job_idempotency_key_unique" UNIQUE("job_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "reseolio"."steps" (
	"job_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "steps_job_id_key_pk" PRIMARY KEY("job_id","key")
);
--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" DROP CONSTRAINT "jobs_status_check";--> statement-breakpoint
DROP INDEX "reseolio"."jobs_pending_run_at_idx";--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD COLUMN "wake_topic" text;--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD COLUMN "wake_children" boolean;--> statement-breakpoint
ALTER TABLE "reseolio"."signals" ADD CONSTRAINT "signals_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "reseolio"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reseolio"."steps" ADD CONSTRAINT "steps_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "reseolio"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "signals_unconsumed_idx" ON "reseolio"."signals" USING btree ("job_id","topic","id") WHERE "reseolio"."signals"."consumed_at" is null;--> statement-breakpoint
CREATE INDEX "jobs_due_run_at_idx" ON "reseolio"."jobs" USING btree ("run_at","id") WHERE "reseolio"."jobs"."status" in ('pending', 'waiting');--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD CONSTRAINT "jobs_status_check" CHECK ("reseolio"."jobs"."status" in ('pending', 'running', 'waiting', 'success', 'dead', 'cancelled'));--> statement-breakpoint
CREATE OR REPLACE FUNCTION "reseolio"."claim_jobs"(p_now bigint, p_names text[], p_limit integer,
  p_owner text, p_lease_token text, p_lease_expires_at bigint)
RETURNS SETOF "reseolio"."jobs"
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $claim$
BEGIN
  -- Transaction-local: see 0002's header.
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY
  WITH next AS (
    SELECT c.id FROM "reseolio"."jobs" AS c
    WHERE c.status in ('pending', 'waiting') AND c.run_at <= p_now AND c.name = ANY(p_names)
    ORDER BY c.run_at, c.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE "reseolio"."jobs" AS j
  SET status = 'running', owner_id = p_owner, lease_token = p_lease_token,
      lease_expires_at = p_lease_expires_at, attempt = j.attempt + 1, started_at = p_now,
      waiting_for = NULL, wake_topic = NULL, wake_children = NULL
  FROM next
  WHERE j.id = next.id
  RETURNING j.*;
END
$claim$;
