-- Claims run inside a function only so that they can carry planner settings: a function's
-- SET clauses apply while its statements are planned, on any connection (ours or a borrowed
-- pool), at no extra round trip. See src/queries/claim-jobs.ts for why the claim must never
-- be planned as a bitmap scan followed by a sort.
CREATE FUNCTION "reseolio"."claim_jobs"(p_now bigint, p_names text[], p_limit integer,
  p_owner text, p_lease_expires_at bigint)
RETURNS SETOF "reseolio"."jobs"
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
AS $claim$
BEGIN
  RETURN QUERY
  WITH next AS (
    SELECT c.id FROM "reseolio"."jobs" AS c
    WHERE c.status = 'pending' AND c.run_at <= p_now AND c.name = ANY(p_names)
    ORDER BY c.run_at, c.created_at, c.id
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
$claim$;
