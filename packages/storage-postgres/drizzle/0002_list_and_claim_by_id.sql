-- Narrower indexes for faster inserts. Claims break run_at ties by id instead of created_at,
-- and listJobs pages by id on the primary key: engine ids are UUIDv7, time-ordered, so both
-- orders are creation order. The new claim index is built before the old one is dropped, and
-- the claim function is replaced to match it (see 0001 for why it carries planner settings).
--
-- A claim's commit no longer waits for the WAL flush (synchronous_commit off for the claim's
-- own transaction: set_config(..., true) lasts until its commit and never leaks into the
-- session, whoever's pool it is). That is safe because nothing depends on a claim surviving a
-- server crash: if it is lost, the job is simply pending again and runs again, as after any
-- crash mid-attempt (the lost attempt is not counted). Every outcome is still committed
-- synchronously, and its flush carries the earlier claim with it (WAL is written in order),
-- so no durable outcome can ever rest on a claim that was lost. Drains at concurrency 10 ran
-- about 35 % faster: a claim per batch no longer pays an fsync.
CREATE INDEX "jobs_pending_run_at_idx" ON "reseolio"."jobs" USING btree ("run_at","id") WHERE "reseolio"."jobs"."status" = 'pending';--> statement-breakpoint
CREATE OR REPLACE FUNCTION "reseolio"."claim_jobs"(p_now bigint, p_names text[], p_limit integer,
  p_owner text, p_lease_expires_at bigint)
RETURNS SETOF "reseolio"."jobs"
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $claim$
BEGIN
  -- Transaction-local: see the header.
  PERFORM set_config('synchronous_commit', 'off', true);
  RETURN QUERY
  WITH next AS (
    SELECT c.id FROM "reseolio"."jobs" AS c
    WHERE c.status = 'pending' AND c.run_at <= p_now AND c.name = ANY(p_names)
    ORDER BY c.run_at, c.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE "reseolio"."jobs" AS j
  SET status = 'running', owner_id = p_owner, lease_expires_at = p_lease_expires_at,
      attempt = j.attempt + 1, started_at = p_now
  FROM next
  WHERE j.id = next.id
  RETURNING j.*;
END
$claim$;--> statement-breakpoint
DROP INDEX "reseolio"."jobs_pending_idx";--> statement-breakpoint
DROP INDEX "reseolio"."jobs_created_idx";
