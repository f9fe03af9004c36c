-- Fences become lease tokens. Every claim writes a fresh random token that the engine makes
-- for that claim, and every heartbeat, ack and hand-back is fenced on (id, lease_token,
-- 'running'). The old fence, (attempt, owner_id), could be handed out twice: a claim undone by
-- a server crash (claims commit without waiting for the WAL flush), a hand-back (attempt - 1)
-- or a cancel followed by retry (attempt = 0) let the same worker claim the same job again at
-- the same attempt, and the first execution's late ack then passed the fence.
--
-- Claims still skip the WAL flush: a claim lost in a crash now only makes the job pending
-- again under a token nobody holds, so the execution that started from it can write nothing.
-- (The lost attempt is not counted, as before.)
ALTER TABLE "reseolio"."jobs" ADD COLUMN "lease_token" text;--> statement-breakpoint
DROP FUNCTION "reseolio"."claim_jobs"(bigint, text[], integer, text, bigint);--> statement-breakpoint
CREATE FUNCTION "reseolio"."claim_jobs"(p_now bigint, p_names text[], p_limit integer,
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
    WHERE c.status = 'pending' AND c.run_at <= p_now AND c.name = ANY(p_names)
    ORDER BY c.run_at, c.id
    LIMIT p_limit
    FOR UPDATE SKIP LOCKED
  )
  UPDATE "reseolio"."jobs" AS j
  SET status = 'running', owner_id = p_owner, lease_token = p_lease_token,
      lease_expires_at = p_lease_expires_at, attempt = j.attempt + 1, started_at = p_now
  FROM next
  WHERE j.id = next.id
  RETURNING j.*;
END
$claim$;
