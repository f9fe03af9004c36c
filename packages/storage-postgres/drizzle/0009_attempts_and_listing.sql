-- Every attempt of a job, and listing at a million jobs (issue 17: the dashboard).
--
-- attempts: one row per ENDED attempt (details().attempts), written by the statement that
-- ends it, never by a claim: an ack's UPDATE inserts the row in a CTE of the same statement
-- (a batch of successes with one INSERT ... SELECT over the batch), a cancel of a running
-- job likewise, a suspension in its second statement. The running attempt is the job row
-- itself (started_at, owner_id, attempt), so the claim path writes nothing more and no
-- statement is added to any path. The key is (job_id, lease_token): every claim writes a
-- fresh token, and a suspension or hand-back gives its attempt number back, so the number
-- alone repeats. Deleted with their job (ON DELETE CASCADE, like steps and signals; the
-- key leads with job_id, so the purge's cascade finds them by index).
--
-- jobs_failed_idx: listJobs({ status: 'dead' }) (or 'cancelled') newest first. Those jobs are
-- a small share of the table, so the primary key's backward scan would read most of it to
-- fill a page. Partial: a job enters it once, when it dies or is cancelled; enqueue, claim
-- and success never write it. Built in the migration's transaction: on an existing table it
-- holds a SHARE lock on jobs (writes wait) while it reads the table, about a second per
-- million rows.
CREATE TABLE "reseolio"."attempts" (
	"job_id" uuid NOT NULL,
	"lease_token" text NOT NULL,
	"attempt" integer NOT NULL,
	"worker_id" text,
	"started_at" bigint NOT NULL,
	"ended_at" bigint NOT NULL,
	"outcome" text NOT NULL,
	"error" text,
	CONSTRAINT "attempts_job_id_lease_token_pk" PRIMARY KEY("job_id","lease_token"),
	CONSTRAINT "attempts_outcome_check" CHECK ("reseolio"."attempts"."outcome" in ('success', 'failed', 'lost', 'suspended', 'released', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "reseolio"."attempts" ADD CONSTRAINT "attempts_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "reseolio"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "jobs_failed_idx" ON "reseolio"."jobs" USING btree ("status","id") WHERE "reseolio"."jobs"."status" in ('dead', 'cancelled');