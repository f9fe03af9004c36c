-- Flow claims lease their jobs through the primary key (issue 15, must-show 6).
--
-- claim_jobs_flow (0006, whose header explains every step) ends by leasing the jobs it chose,
-- by id. 0006 wrote that lookup as `id = ANY(v_take) AND status in ('pending', 'waiting') AND
-- run_at <= now`: the status condition lets the planner use either partial claim index too
-- (jobs_due_priority_idx, jobs_due_flow_idx), each read whole and filtered by id. The function
-- runs with generic plans (plan_cache_mode = force_generic_plan, see 0006), made once per
-- connection from the statistics of the moment, and they are wrong exactly when it matters: a
-- table never analyzed (a fresh install, a burst right after one) or one of finished jobs says
-- few rows are pending, the whole pending index then looks cheaper than ten primary-key probes,
-- and every claim read the entire due backlog. Measured in the bench's flow drain (4,000 jobs
-- over 100 keys, concurrency 10, a fresh database): that one statement read about 4,000 buffers
-- per claim, and the function took 6 to 10 ms in the server instead of about 2.
--
-- Now each row is locked by its id alone (id = one value, FOR UPDATE SKIP LOCKED, in a
-- MATERIALIZED CTE, so no condition can be pushed into that scan): with no condition on
-- status, no partial index qualifies, and one probe of the primary key per id is cheaper than
-- a sequential scan of even the ten pages the planner assumes for a table it has never
-- measured (a first claim on an empty table plans the statement for the connection's life,
-- until the next ANALYZE). The claimable check (still pending or waiting, and due) is made
-- after the lock on the row version the lock returned, the latest committed one, so a job
-- taken or cancelled since it was read is still left alone. A row that failed the check stays
-- locked until this claim commits (a millisecond or so): at most the outcome write of a job
-- another claim just took waits that long, and this claim never waits for anything after it
-- locked (try-locks, SKIP LOCKED), so no deadlock can form.
--
-- And no sequential scans (enable_seqscan = off, beside 0006's settings): every table access
-- of the function has an index made for it, and the only plans that chose a sequential scan
-- were those made on a table the planner had never measured. It then assumes ten pages, and
-- a scan of ten pages looked cheaper than a few index probes; made by a connection's first
-- claim at start-up, on an empty table, such a plan stayed for the connection's life, or until
-- the next ANALYZE, however large the table grew.
--
-- Starts of idle groups are deleted. A claim deleted a rate group's starts that every window
-- had left only when it recorded new starts for that group, so the last starts of a group that
-- starts nothing more (a key used once: a user, a tenant that left) stayed forever. Now every
-- claim with a rate-limited name also deletes up to 64 of that name's oldest starts that have
-- left the window, whatever their group, through the new rate_limit_starts_name_idx (name,
-- started_at): one index probe that finds nothing when nothing is left over. Any claim of the
-- name may now delete any group's starts, so both deletes skip the rows another claim has
-- locked (FOR UPDATE SKIP LOCKED) instead of waiting for them: two claims each waiting for a
-- start the other is deleting would deadlock. So the table holds the starts the windows
-- count, plus left-over ones that each claim of their name deletes 64 at a time (an upgraded
-- table's whole backlog included).
--
-- Everything else in the function is unchanged. The index is built in the migration's
-- transaction (a SHARE lock on rate_limit_starts: claims of rate-limited names wait meanwhile).
CREATE INDEX "rate_limit_starts_name_idx" ON "reseolio"."rate_limit_starts" USING btree ("name","started_at");--> statement-breakpoint
CREATE OR REPLACE FUNCTION "reseolio"."claim_jobs_flow"(p_now bigint, p_names text[], p_limit integer,
  p_owner text, p_lease_token text, p_lease_expires_at bigint, p_rule_names text[],
  p_rule_concurrency integer[], p_rule_rate_limit integer[], p_rule_period bigint[])
RETURNS TABLE (o_order integer, o_job "reseolio"."jobs", o_ready_name text, o_ready_at bigint)
LANGUAGE plpgsql
SET enable_bitmapscan = off
SET enable_sort = off
SET enable_seqscan = off
SET jit = off
SET plan_cache_mode = force_generic_plan
AS $flow$
DECLARE
  -- Step 2's scan reads at most this many due index entries (of any name).
  v_budget constant integer := greatest(32, 4 * p_limit);
  -- The ruled names of this claim and their rules, by index ri (a null limit: no such rule).
  r_name text[]; r_conc integer[]; r_rate integer[]; r_period bigint[];
  -- Per ruled name: the earliest time a job a rule left behind could start (null: none); a
  -- cell skipped because another claim held its lock; a rate budget possibly shared by two
  -- of its fair groups (see the header).
  r_ready bigint[]; r_busy boolean[]; r_shared boolean[];
  v_plain text[];
  -- Step 1: plain candidates, in claim order.
  p_id uuid[]; p_pr integer[]; p_ra bigint[];
  -- Cells to visit, in head order, with their unlocked state (concurrency: running and the
  -- earliest lease; rate: starts in the window and the one whose expiry frees the next start).
  cl_ri integer[]; cl_ck text[]; cl_rk text[]; cl_pr integer[]; cl_ra bigint[]; cl_id uuid[];
  cl_run integer[]; cl_early bigint[]; cl_cnt integer[]; cl_nth bigint[];
  -- Every cell discovered so far.
  d_ri integer[]; d_ck text[]; d_rk text[];
  v_complete boolean;       -- step 2's scan saw every due row
  v_walked boolean := false;
  v_front_pr integer; v_front_ra bigint; v_front_id uuid;  -- the last row it read
  -- The groups the plan counts in, by key ('c' or 'r', rule index, key): their locked state
  -- and what the plan accepted in them.
  g_key text[] := '{}'; g_taken integer[] := '{}'; g_run integer[] := '{}';
  g_early bigint[] := '{}'; g_cnt integer[] := '{}'; g_nth bigint[] := '{}';
  -- Fair groups with room and a job (the stop rule counts them).
  v_room text[] := '{}';
  -- The plan's candidates: plain (k_ri 0) and those read from locked cells; their concurrency,
  -- rate and fair group (indexes into g_*, 0 for none).
  k_id uuid[] := '{}'; k_ri integer[] := '{}'; k_pr integer[] := '{}'; k_ra bigint[] := '{}';
  k_cg integer[] := '{}'; k_rg integer[] := '{}'; k_fg integer[] := '{}';
  -- Accepted by the plan: candidate index, round.
  a_k integer[] := '{}'; a_round integer[] := '{}';
  v_order integer[]; v_take uuid[];
  i integer; k integer; ri integer; v_pi integer := 1;
  v_ck text; v_rk text; v_cg integer; v_rg integer; v_fg integer; v_allow integer;
  v_blocked boolean; v_inf boolean; v_until bigint; v_found integer;
  v_locked boolean; v_upto integer; v_both boolean;
  v_run integer[]; v_early bigint[]; v_cnt integer[]; v_nth bigint[];
  -- Step 3's batch: its cells not full by the unlocked count, those whose locks were obtained
  -- (positions in cl_*), its last cell, the stop rule's plain count and open cells within it.
  b_pos integer[]; b_locked integer[]; b_end integer; t_pi integer; v_nb integer;
  v_cur integer; m integer;
  rec record;
BEGIN
  -- Transaction-local: see 0002's header.
  PERFORM set_config('synchronous_commit', 'off', true);

  -- The rules of this claim's names that limit anything, the first one of a name.
  SELECT coalesce(array_agg(r.name ORDER BY r.ord), '{}'),
         coalesce(array_agg(r.conc ORDER BY r.ord), '{}'),
         coalesce(array_agg(r.rate ORDER BY r.ord), '{}'),
         coalesce(array_agg(r.period ORDER BY r.ord), '{}')
  INTO r_name, r_conc, r_rate, r_period
  FROM (SELECT DISTINCT ON (u.name) u.name, u.conc, u.rate, u.period, u.ord
        FROM unnest(p_rule_names, p_rule_concurrency, p_rule_rate_limit, p_rule_period)
          WITH ORDINALITY AS u(name, conc, rate, period, ord)
        WHERE u.name = ANY(p_names) AND (u.conc IS NOT NULL OR u.rate IS NOT NULL)
        ORDER BY u.name, u.ord) AS r;
  r_ready := array_fill(NULL::bigint, ARRAY[cardinality(r_name)]);
  r_busy := array_fill(false, ARRAY[cardinality(r_name)]);
  r_shared := array_fill(false, ARRAY[cardinality(r_name)]);
  v_both := EXISTS (SELECT 1 FROM unnest(r_conc, r_rate) AS r(conc, rate)
                    WHERE r.conc IS NOT NULL AND r.rate IS NOT NULL);
  SELECT coalesce(array_agg(DISTINCT n.name), '{}') INTO v_plain
  FROM unnest(p_names) AS n(name) WHERE n.name <> ALL(r_name);

  -- 1. Plain candidates, read and locked as claim_jobs reads them.
  p_id := '{}'; p_pr := '{}'; p_ra := '{}';
  IF cardinality(v_plain) > 0 THEN
    WITH RECURSIVE levels(priority) AS (
      (SELECT l.priority FROM "reseolio"."jobs" AS l
       WHERE l.status in ('pending', 'waiting')
       ORDER BY l.priority DESC, l.run_at, l.id
       LIMIT 1)
      UNION ALL
      SELECT (SELECT l.priority FROM "reseolio"."jobs" AS l
              WHERE l.status in ('pending', 'waiting') AND l.priority < levels.priority
              ORDER BY l.priority DESC, l.run_at, l.id
              LIMIT 1)
      FROM levels
      WHERE levels.priority IS NOT NULL
    ), next AS (
      SELECT c.id, c.priority, c.run_at FROM levels, LATERAL (
        SELECT c.id, c.priority, c.run_at FROM "reseolio"."jobs" AS c
        WHERE c.status in ('pending', 'waiting') AND c.priority = levels.priority
          AND c.run_at <= p_now AND c.name = ANY(v_plain)
        ORDER BY c.priority DESC, c.run_at, c.id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
      ) AS c
      LIMIT p_limit
    ), numbered AS (
      SELECT next.*, row_number() OVER () AS seq FROM next
    )
    SELECT coalesce(array_agg(n.id ORDER BY n.seq), '{}'),
           coalesce(array_agg(n.priority ORDER BY n.seq), '{}'),
           coalesce(array_agg(n.run_at ORDER BY n.seq), '{}')
    INTO p_id, p_pr, p_ra FROM numbered AS n;
  END IF;
  FOR i IN 1 .. cardinality(p_id) LOOP
    k_id := k_id || p_id[i]; k_ri := k_ri || 0; k_pr := k_pr || p_pr[i];
    k_ra := k_ra || p_ra[i]; k_cg := k_cg || 0; k_rg := k_rg || 0; k_fg := k_fg || 0;
  END LOOP;

  IF cardinality(r_name) > 0 THEN
    -- 2. Discovery by the due scan: due rows of every name in claim order, at most v_budget;
    -- the ruled ones give their cells, each headed by the first of its rows seen.
    WITH RECURSIVE levels(priority) AS (
      (SELECT l.priority FROM "reseolio"."jobs" AS l
       WHERE l.status in ('pending', 'waiting')
       ORDER BY l.priority DESC, l.run_at, l.id
       LIMIT 1)
      UNION ALL
      SELECT (SELECT l.priority FROM "reseolio"."jobs" AS l
              WHERE l.status in ('pending', 'waiting') AND l.priority < levels.priority
              ORDER BY l.priority DESC, l.run_at, l.id
              LIMIT 1)
      FROM levels
      WHERE levels.priority IS NOT NULL
    ), seen AS MATERIALIZED (
      SELECT c.*, row_number() OVER () AS seq FROM (
        SELECT c.* FROM levels, LATERAL (
          SELECT c.id, c.name, c.priority, c.run_at, coalesce(c.concurrency_key, '') AS ck,
                 coalesce(c.rate_limit_key, '') AS rk
          FROM "reseolio"."jobs" AS c
          WHERE c.status in ('pending', 'waiting') AND c.priority = levels.priority
            AND c.run_at <= p_now
          ORDER BY c.priority DESC, c.run_at, c.id
          LIMIT v_budget
        ) AS c
        LIMIT v_budget
      ) AS c
    ), heads AS (
      SELECT DISTINCT ON (r.ri, s.ck, s.rk) r.ri, s.ck, s.rk, s.priority, s.run_at, s.id
      FROM seen AS s JOIN unnest(r_name) WITH ORDINALITY AS r(name, ri) ON r.name = s.name
      ORDER BY r.ri, s.ck, s.rk, s.seq
    ), front AS (
      SELECT s.priority, s.run_at, s.id, s.seq FROM seen AS s ORDER BY s.seq DESC LIMIT 1
    )
    SELECT coalesce((SELECT f.seq FROM front AS f), 0) < v_budget,
           (SELECT f.priority FROM front AS f), (SELECT f.run_at FROM front AS f),
           (SELECT f.id FROM front AS f),
           coalesce(array_agg(h.ri ORDER BY h.priority DESC, h.run_at, h.id), '{}'),
           coalesce(array_agg(h.ck ORDER BY h.priority DESC, h.run_at, h.id), '{}'),
           coalesce(array_agg(h.rk ORDER BY h.priority DESC, h.run_at, h.id), '{}'),
           coalesce(array_agg(h.priority ORDER BY h.priority DESC, h.run_at, h.id), '{}'),
           coalesce(array_agg(h.run_at ORDER BY h.priority DESC, h.run_at, h.id), '{}'),
           coalesce(array_agg(h.id ORDER BY h.priority DESC, h.run_at, h.id), '{}')
    INTO v_complete, v_front_pr, v_front_ra, v_front_id, cl_ri, cl_ck, cl_rk, cl_pr, cl_ra,
         cl_id
    FROM heads AS h;
    d_ri := cl_ri; d_ck := cl_ck; d_rk := cl_rk;

    <<discover>>
    LOOP
      v_upto := 0; cl_run := '{}'; cl_early := '{}'; cl_cnt := '{}'; cl_nth := '{}';
      -- A name with both rules, one of whose rate keys is in cells of two concurrency keys:
      -- its rate budget is shared by fair groups (see the header).
      IF v_both THEN
        SELECT coalesce(array_agg(r.ri IN (
                 SELECT d.ri FROM unnest(d_ri, d_ck, d_rk) AS d(ri, ck, rk)
                 GROUP BY d.ri, d.rk HAVING count(DISTINCT d.ck) > 1)
               AND r_conc[r.ri] IS NOT NULL AND r_rate[r.ri] IS NOT NULL ORDER BY r.ri), '{}')
        INTO r_shared
        FROM generate_series(1, cardinality(r_name)) AS r(ri);
      END IF;

      i := 1;
      WHILE i <= cardinality(cl_ri) LOOP
        -- 3. The stop rule: p_limit jobs taken in round 1 sort before this head.
        WHILE v_pi <= cardinality(p_id)
          AND (p_pr[v_pi] > cl_pr[i]
               OR (p_pr[v_pi] = cl_pr[i] AND (p_ra[v_pi], p_id[v_pi]) < (cl_ra[i], cl_id[i])))
        LOOP
          v_pi := v_pi + 1;
        END LOOP;
        EXIT WHEN v_pi - 1 + cardinality(v_room) >= p_limit;
        IF i > v_upto THEN
          -- The unlocked state of the next cells, a chunk per statement (most claims stop after
          -- about p_limit cells, however many were found).
          SELECT coalesce(array_agg(s.run ORDER BY s.pos), '{}'),
                 coalesce(array_agg(s.early ORDER BY s.pos), '{}'),
                 coalesce(array_agg(s.cnt ORDER BY s.pos), '{}'),
                 coalesce(array_agg(s.nth ORDER BY s.pos), '{}')
          INTO v_run, v_early, v_cnt, v_nth
          FROM (
            SELECT c.pos, cs.run, cs.early, rs.cnt, rs.nth
            FROM (SELECT * FROM unnest(cl_ri, cl_ck, cl_rk) WITH ORDINALITY AS c(ri, ck, rk, pos)
                  WHERE c.pos >= i AND c.pos < i + greatest(8, p_limit)) AS c,
            LATERAL (SELECT count(*)::integer AS run, min(j.lease_expires_at) AS early
                     FROM "reseolio"."jobs" AS j
                     WHERE r_conc[c.ri] IS NOT NULL AND j.status = 'running'
                       AND j.name = r_name[c.ri] AND coalesce(j.concurrency_key, '') = c.ck
                       AND j.lease_expires_at >= p_now) AS cs,
            LATERAL (SELECT w.cnt,
                       (SELECT s.started_at FROM "reseolio"."rate_limit_starts" AS s
                        WHERE r_rate[c.ri] IS NOT NULL AND s.name = r_name[c.ri] AND s.key = c.rk
                          AND s.started_at > p_now - r_period[c.ri]
                        ORDER BY s.started_at
                        OFFSET greatest(w.cnt - r_rate[c.ri], 0) LIMIT 1) AS nth
                     FROM (SELECT count(*)::integer AS cnt
                           FROM "reseolio"."rate_limit_starts" AS s
                           WHERE r_rate[c.ri] IS NOT NULL AND s.name = r_name[c.ri] AND s.key = c.rk
                             AND s.started_at > p_now - r_period[c.ri]
                          ) AS w) AS rs
          ) AS s;
          cl_run := cl_run || v_run; cl_early := cl_early || v_early;
          cl_cnt := cl_cnt || v_cnt; cl_nth := cl_nth || v_nth;
          v_upto := cardinality(cl_run);
        END IF;
        -- The batch: this cell and the next ones (of the chunk read) that the stop rule cannot
        -- end before. It is checked here at cell i; at each later cell m, v_room can have grown
        -- by at most one per cell before m that is not full, so a cell m where the rule does
        -- not hold even counting all of those is visited, as it would be one cell at a time.
        b_pos := '{}'; t_pi := v_pi; v_nb := 0; b_end := i;
        FOR m IN i .. v_upto LOOP
          IF m > i THEN
            WHILE t_pi <= cardinality(p_id)
              AND (p_pr[t_pi] > cl_pr[m]
                   OR (p_pr[t_pi] = cl_pr[m]
                       AND (p_ra[t_pi], p_id[t_pi]) < (cl_ra[m], cl_id[m])))
            LOOP
              t_pi := t_pi + 1;
            END LOOP;
            EXIT WHEN t_pi - 1 + cardinality(v_room) + v_nb >= p_limit;
          END IF;
          b_end := m;
          ri := cl_ri[m];
          -- Full by the unlocked count: neither locked nor read (a claim holding the lock
          -- could only fill it further); its head notes when it could start, as the plan would.
          v_blocked := false; v_inf := false; v_until := NULL;
          IF r_conc[ri] IS NOT NULL AND cl_run[m] >= r_conc[ri] THEN
            v_blocked := true;
            IF cl_early[m] IS NULL THEN v_inf := true; ELSE v_until := cl_early[m] + 1; END IF;
          END IF;
          IF r_rate[ri] IS NOT NULL AND cl_cnt[m] >= r_rate[ri] THEN
            v_blocked := true;
            v_until := greatest(v_until, coalesce(cl_nth[m], p_now) + r_period[ri]);
          END IF;
          IF v_blocked THEN
            IF NOT v_inf THEN r_ready[ri] := least(r_ready[ri], v_until); END IF;
          ELSE
            b_pos := b_pos || m; v_nb := v_nb + 1;
          END IF;
        END LOOP;
        i := b_end + 1;
        CONTINUE WHEN cardinality(b_pos) = 0;
        -- Lock the batch's groups without waiting, in one statement (see the header for the
        -- key): a cell's rate group only once its concurrency group is held. A cell whose
        -- locks are not all obtained is not read.
        SELECT coalesce(array_agg(t.pos ORDER BY t.pos) FILTER (WHERE t.ok), '{}'),
               coalesce(bool_or(NOT t.ok), false)
        INTO b_locked, v_locked
        FROM (SELECT b.pos,
                     CASE WHEN r_conc[cl_ri[b.pos]] IS NULL OR pg_try_advisory_xact_lock(
                            (hashtextextended('"reseolio"."jobs"' || E'\x1f' || r_name[cl_ri[b.pos]]
                               || E'\x1fc\x1f' || cl_ck[b.pos], 0) >> 32)::integer,
                            (hashtextextended('"reseolio"."jobs"' || E'\x1f' || r_name[cl_ri[b.pos]]
                               || E'\x1fc\x1f' || cl_ck[b.pos], 0) & 2147483647)::integer)
                     THEN r_rate[cl_ri[b.pos]] IS NULL OR pg_try_advisory_xact_lock(
                            (hashtextextended('"reseolio"."jobs"' || E'\x1f' || r_name[cl_ri[b.pos]]
                               || E'\x1fr\x1f' || cl_rk[b.pos], 0) >> 32)::integer,
                            (hashtextextended('"reseolio"."jobs"' || E'\x1f' || r_name[cl_ri[b.pos]]
                               || E'\x1fr\x1f' || cl_rk[b.pos], 0) & 2147483647)::integer)
                     ELSE false END AS ok
              FROM unnest(b_pos) AS b(pos) OFFSET 0) AS t;
        IF v_locked THEN
          FOR m IN SELECT b.pos FROM unnest(b_pos) AS b(pos)
                   WHERE b.pos <> ALL(b_locked) LOOP
            r_busy[cl_ri[m]] := true;
          END LOOP;
        END IF;
        CONTINUE WHEN cardinality(b_locked) = 0;
        -- A new statement, so a snapshot taken after the locks (see the header): for every
        -- locked cell of the batch, its groups' state, and up to min(allowance, p_limit) + 1
        -- due jobs of the cell in claim order, by the same skip scan over priority levels as
        -- claim_jobs, within the cell, from the head's level down; cell by cell, in head order.
        -- A group met again in another cell keeps the state it was first read with: the lock
        -- has held it since, and this claim's own writes come last.
        v_cur := 0; v_cg := 0; v_rg := 0; v_found := 0; v_allow := 0;
        FOR rec IN
          SELECT b.pos, st.run, st.early, st.cnt, st.nth, st.allow, c.id, c.priority, c.run_at
          FROM unnest(b_locked) WITH ORDINALITY AS b(pos, bo),
          LATERAL (
            SELECT cs.run, cs.early, rs.cnt, rs.nth,
                   least(greatest(least(r_conc[cl_ri[b.pos]] - cs.run,
                                        r_rate[cl_ri[b.pos]] - rs.cnt), 0),
                         p_limit) AS allow
            FROM (SELECT count(*)::integer AS run, min(j.lease_expires_at) AS early
                  FROM "reseolio"."jobs" AS j
                  WHERE r_conc[cl_ri[b.pos]] IS NOT NULL AND j.status = 'running'
                    AND j.name = r_name[cl_ri[b.pos]]
                    AND coalesce(j.concurrency_key, '') = cl_ck[b.pos]
                    AND j.lease_expires_at >= p_now) AS cs,
            LATERAL (SELECT w.cnt,
                       (SELECT s.started_at FROM "reseolio"."rate_limit_starts" AS s
                        WHERE r_rate[cl_ri[b.pos]] IS NOT NULL
                          AND s.name = r_name[cl_ri[b.pos]] AND s.key = cl_rk[b.pos]
                          AND s.started_at > p_now - r_period[cl_ri[b.pos]]
                        ORDER BY s.started_at
                        OFFSET greatest(w.cnt - r_rate[cl_ri[b.pos]], 0) LIMIT 1) AS nth
                     FROM (SELECT count(*)::integer AS cnt
                           FROM "reseolio"."rate_limit_starts" AS s
                           WHERE r_rate[cl_ri[b.pos]] IS NOT NULL
                             AND s.name = r_name[cl_ri[b.pos]] AND s.key = cl_rk[b.pos]
                             AND s.started_at > p_now - r_period[cl_ri[b.pos]]) AS w) AS rs
          ) AS st
          LEFT JOIN LATERAL (
            SELECT c.*, row_number() OVER () AS seq FROM (
              WITH RECURSIVE levels(priority) AS (
                SELECT cl_pr[b.pos]
                UNION ALL
                SELECT (SELECT l.priority FROM "reseolio"."jobs" AS l
                        WHERE l.status in ('pending', 'waiting')
                          AND l.name = r_name[cl_ri[b.pos]]
                          AND coalesce(l.concurrency_key, '') = cl_ck[b.pos]
                          AND coalesce(l.rate_limit_key, '') = cl_rk[b.pos]
                          AND l.priority < levels.priority
                        ORDER BY coalesce(l.concurrency_key, ''), coalesce(l.rate_limit_key, ''),
                                 l.priority DESC, l.run_at, l.id
                        LIMIT 1)
                FROM levels
                WHERE levels.priority IS NOT NULL
              )
              SELECT c.* FROM levels, LATERAL (
                SELECT c.id, c.priority, c.run_at FROM "reseolio"."jobs" AS c
                WHERE c.status in ('pending', 'waiting') AND c.name = r_name[cl_ri[b.pos]]
                  AND coalesce(c.concurrency_key, '') = cl_ck[b.pos]
                  AND coalesce(c.rate_limit_key, '') = cl_rk[b.pos]
                  AND c.priority = levels.priority AND c.run_at <= p_now
                ORDER BY coalesce(c.concurrency_key, ''), coalesce(c.rate_limit_key, ''),
                         c.priority DESC, c.run_at, c.id
                LIMIT st.allow + 1
              ) AS c
              LIMIT st.allow + 1
            ) AS c
          ) AS c ON true
          ORDER BY b.bo, c.seq
        LOOP
          IF rec.pos <> v_cur THEN
            -- The cell before is done: the stop rule counts a fair group once it has room and
            -- a job, unless its name's rate budget may be shared (another fair group could use
            -- it up first).
            IF v_cur > 0 AND v_allow > 0 AND v_found > 0 AND NOT r_shared[ri]
               AND array_position(v_room, g_key[v_fg]) IS NULL THEN
              v_room := v_room || g_key[v_fg];
            END IF;
            v_cur := rec.pos; ri := cl_ri[v_cur]; v_ck := cl_ck[v_cur]; v_rk := cl_rk[v_cur];
            v_found := 0; v_cg := 0; v_rg := 0;
            v_allow := rec.allow;
            IF r_conc[ri] IS NOT NULL THEN
              v_cg := array_position(g_key, 'c' || ri || E'\x1f' || v_ck);
              IF v_cg IS NULL THEN
                g_key := g_key || ('c' || ri || E'\x1f' || v_ck); g_taken := g_taken || 0;
                g_run := g_run || rec.run; g_early := g_early || rec.early;
                g_cnt := g_cnt || NULL::integer; g_nth := g_nth || NULL::bigint;
                v_cg := cardinality(g_key);
              END IF;
            END IF;
            IF r_rate[ri] IS NOT NULL THEN
              v_rg := array_position(g_key, 'r' || ri || E'\x1f' || v_rk);
              IF v_rg IS NULL THEN
                g_key := g_key || ('r' || ri || E'\x1f' || v_rk); g_taken := g_taken || 0;
                g_run := g_run || NULL::integer; g_early := g_early || NULL::bigint;
                g_cnt := g_cnt || rec.cnt; g_nth := g_nth || rec.nth;
                v_rg := cardinality(g_key);
              END IF;
            END IF;
            v_fg := CASE WHEN r_conc[ri] IS NOT NULL THEN v_cg ELSE v_rg END;
          END IF;
          CONTINUE WHEN rec.id IS NULL;
          k_id := k_id || rec.id; k_ri := k_ri || ri; k_pr := k_pr || rec.priority;
          k_ra := k_ra || rec.run_at; k_cg := k_cg || v_cg; k_rg := k_rg || v_rg;
          k_fg := k_fg || v_fg;
          v_found := v_found + 1;
        END LOOP;
        IF v_cur > 0 AND v_allow > 0 AND v_found > 0 AND NOT r_shared[ri]
           AND array_position(v_room, g_key[v_fg]) IS NULL THEN
          v_room := v_room || g_key[v_fg];
        END IF;
      END LOOP;

      -- Every due cell was found (by the scan, or the walk), or the stop rule holds at the
      -- scan's last row: the cells beyond it all sort after that row.
      EXIT discover WHEN v_complete OR v_walked;
      WHILE v_pi <= cardinality(p_id)
        AND (p_pr[v_pi] > v_front_pr
             OR (p_pr[v_pi] = v_front_pr
                 AND (p_ra[v_pi], p_id[v_pi]) < (v_front_ra, v_front_id)))
      LOOP
        v_pi := v_pi + 1;
      END LOOP;
      EXIT discover WHEN v_pi - 1 + cardinality(v_room) >= p_limit;
      -- The walk of jobs_due_flow_idx: every due cell of the ruled names, one probe per cell
      -- holding claimable jobs (and per priority level of a cell whose top level is not due),
      -- less those already found. Their heads all sort after the scan's last row, so the
      -- stop rule's count so far still holds for them.
      v_walked := true;
      SELECT coalesce(array_agg(w.ri ORDER BY w.priority DESC, w.run_at, w.id), '{}'),
             coalesce(array_agg(w.ck ORDER BY w.priority DESC, w.run_at, w.id), '{}'),
             coalesce(array_agg(w.rk ORDER BY w.priority DESC, w.run_at, w.id), '{}'),
             coalesce(array_agg(w.priority ORDER BY w.priority DESC, w.run_at, w.id), '{}'),
             coalesce(array_agg(w.run_at ORDER BY w.priority DESC, w.run_at, w.id), '{}'),
             coalesce(array_agg(w.id ORDER BY w.priority DESC, w.run_at, w.id), '{}')
      INTO cl_ri, cl_ck, cl_rk, cl_pr, cl_ra, cl_id
      FROM (
        SELECT r.ri, cell.* FROM unnest(r_name) WITH ORDINALITY AS r(name, ri), LATERAL (
          WITH RECURSIVE walk(ck, rk, priority, run_at, id) AS (
            (SELECT coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                    j.priority, j.run_at, j.id
             FROM "reseolio"."jobs" AS j
             WHERE j.status in ('pending', 'waiting') AND j.name = r.name
             ORDER BY coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                      j.priority DESC, j.run_at, j.id
             LIMIT 1)
            UNION ALL
            SELECT s.* FROM walk AS w, LATERAL (
              -- The cell's next lower level, when this level's first job is not due...
              (SELECT coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                      j.priority, j.run_at, j.id
               FROM "reseolio"."jobs" AS j
               WHERE w.run_at > p_now AND j.status in ('pending', 'waiting')
                 AND j.name = r.name AND coalesce(j.concurrency_key, '') = w.ck
                 AND coalesce(j.rate_limit_key, '') = w.rk AND j.priority < w.priority
               ORDER BY coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                        j.priority DESC, j.run_at, j.id
               LIMIT 1)
              UNION ALL
              -- ...else the first job of the next cell.
              (SELECT coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                      j.priority, j.run_at, j.id
               FROM "reseolio"."jobs" AS j
               WHERE j.status in ('pending', 'waiting') AND j.name = r.name
                 AND (coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''))
                     > (w.ck, w.rk)
               ORDER BY coalesce(j.concurrency_key, ''), coalesce(j.rate_limit_key, ''),
                        j.priority DESC, j.run_at, j.id
               LIMIT 1)
              LIMIT 1
            ) AS s
          )
          SELECT * FROM walk WHERE walk.run_at <= p_now
        ) AS cell
      ) AS w
      WHERE NOT EXISTS (SELECT 1 FROM unnest(d_ri, d_ck, d_rk) AS d(ri, ck, rk)
                        WHERE d.ri = w.ri AND d.ck = w.ck AND d.rk = w.rk);
      d_ri := d_ri || cl_ri; d_ck := d_ck || cl_ck; d_rk := d_rk || cl_rk;
    END LOOP;
  END IF;

  -- 4. The plan (planFlowClaim): candidates in claim order, each ruled one accepted while
  -- its groups have room counting what was accepted before it.
  SELECT coalesce(array_agg(o.k ORDER BY o.pr DESC, o.ra, o.id), '{}') INTO v_order
  FROM unnest(k_pr, k_ra, k_id) WITH ORDINALITY AS o(pr, ra, id, k);
  FOREACH k IN ARRAY v_order LOOP
    ri := k_ri[k];
    IF ri = 0 THEN
      a_k := a_k || k; a_round := a_round || 1;
      CONTINUE;
    END IF;
    v_cg := k_cg[k]; v_rg := k_rg[k];
    v_blocked := false; v_inf := false; v_until := NULL;
    IF v_cg > 0 AND g_run[v_cg] + g_taken[v_cg] >= r_conc[ri] THEN
      -- A slot frees when a job ends (its own event says so) or when a lease lapses; slots
      -- this claim took free later than any already running.
      v_blocked := true;
      IF g_early[v_cg] IS NULL THEN v_inf := true; ELSE v_until := g_early[v_cg] + 1; END IF;
    END IF;
    IF v_rg > 0 AND g_cnt[v_rg] + g_taken[v_rg] >= r_rate[ri] THEN
      -- The window frees a start when its oldest counted start is periodMs old: the
      -- (count - limit)-th oldest recorded one, or one of this claim's (at now).
      v_blocked := true;
      v_until := greatest(v_until, coalesce(g_nth[v_rg], p_now) + r_period[ri]);
    END IF;
    IF v_blocked THEN
      IF NOT v_inf THEN r_ready[ri] := least(r_ready[ri], v_until); END IF;
      CONTINUE;
    END IF;
    IF v_cg > 0 THEN g_taken[v_cg] := g_taken[v_cg] + 1; END IF;
    IF v_rg > 0 THEN g_taken[v_rg] := g_taken[v_rg] + 1; END IF;
    -- Its round: its place among the accepted jobs of its fair group.
    a_k := a_k || k; a_round := a_round || g_taken[k_fg[k]];
  END LOOP;
  SELECT (coalesce(array_agg(k_id[a.k] ORDER BY k_pr[a.k] DESC, a.round, k_ra[a.k], k_id[a.k]),
                   '{}'))[1:p_limit]
  INTO v_take
  FROM unnest(a_k, a_round) AS a(k, round);

  -- 5. Lease them by id, re-checking under the row lock that each is still claimable (one may
  -- have been taken or cancelled since it was read); record a start per job of a
  -- rate-limited name, and forget those groups' starts that have left the window.
  -- Each row is found by its id alone, one primary-key probe (see this migration's header);
  -- the check comes after the lock, on the row version the lock returned.
  RETURN QUERY
  WITH locked AS MATERIALIZED (
    SELECT c.id, c.status, c.run_at FROM unnest(v_take) AS t(id), LATERAL (
      SELECT c.id, c.status, c.run_at FROM "reseolio"."jobs" AS c
      WHERE c.id = t.id
      FOR UPDATE SKIP LOCKED
    ) AS c
  ), leased AS (
    UPDATE "reseolio"."jobs" AS j
    SET status = 'running', owner_id = p_owner, lease_token = p_lease_token,
        lease_expires_at = p_lease_expires_at, attempt = j.attempt + 1, started_at = p_now,
        waiting_for = NULL, wake_topic = NULL, wake_children = NULL
    FROM locked
    WHERE j.id = locked.id AND locked.status in ('pending', 'waiting')
      AND locked.run_at <= p_now
    RETURNING j AS job, j.name, coalesce(j.rate_limit_key, '') AS rk, j.id
  ), rated AS (
    SELECT l.name, l.rk, r.period
    FROM leased AS l JOIN unnest(r_name, r_rate, r_period) AS r(name, rate, period)
      ON r.name = l.name
    WHERE r.rate IS NOT NULL
  ), started AS (
    INSERT INTO "reseolio"."rate_limit_starts" (name, key, started_at)
    SELECT rated.name, rated.rk, p_now FROM rated
  ), forgotten AS (
    -- Starts that every window has left: those of the groups this claim starts jobs in, and
    -- the oldest few of each rate-limited name, of any group (those of groups that start
    -- nothing more included). Rows another claim has locked are skipped, never waited for:
    -- that claim is deleting them, and a claim never waits for another while it holds locks.
    DELETE FROM "reseolio"."rate_limit_starts" AS s
    WHERE s.ctid = ANY(ARRAY(
      SELECT o.ctid FROM (SELECT DISTINCT rated.name, rated.rk, rated.period FROM rated) AS g,
      LATERAL (SELECT o.ctid FROM "reseolio"."rate_limit_starts" AS o
               WHERE o.name = g.name AND o.key = g.rk AND o.started_at <= p_now - g.period
               FOR UPDATE SKIP LOCKED) AS o
      UNION ALL
      SELECT o.ctid FROM unnest(r_name, r_rate, r_period) AS r(name, rate, period),
      LATERAL (SELECT o.ctid FROM "reseolio"."rate_limit_starts" AS o
               WHERE r.rate IS NOT NULL AND o.name = r.name
                 AND o.started_at <= p_now - r.period
               ORDER BY o.started_at
               LIMIT 64
               FOR UPDATE SKIP LOCKED) AS o))
  )
  SELECT t.ord::integer, l.job, NULL::text, NULL::bigint
  FROM leased AS l JOIN unnest(v_take) WITH ORDINALITY AS t(id, ord) ON t.id = l.id;

  -- Ready times of names a rule held back; a name with a cell skipped as busy is ready now
  -- when this claim came back short (the other claim will have committed by the next one).
  RETURN QUERY
  SELECT NULL::integer, NULL::"reseolio"."jobs", r.name,
         CASE WHEN r.busy AND cardinality(v_take) < p_limit THEN p_now ELSE r.ready END
  FROM unnest(r_name, r_ready, r_busy) AS r(name, ready, busy)
  WHERE r.ready IS NOT NULL OR (r.busy AND cardinality(v_take) < p_limit);
END
$flow$;
