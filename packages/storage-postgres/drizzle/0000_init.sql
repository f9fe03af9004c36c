CREATE SCHEMA "reseolio";
--> statement-breakpoint
CREATE TABLE "reseolio"."jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"status" text NOT NULL,
	"args" text NOT NULL,
	"result" text,
	"error" text,
	"policy" text NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"idempotency_key" text,
	"parent_id" uuid,
	"owner_id" text,
	"lease_expires_at" bigint,
	"created_at" bigint NOT NULL,
	"run_at" bigint NOT NULL,
	"started_at" bigint,
	"completed_at" bigint,
	CONSTRAINT "jobs_status_check" CHECK ("reseolio"."jobs"."status" in ('pending', 'running', 'success', 'dead', 'cancelled'))
);
--> statement-breakpoint
CREATE INDEX "jobs_pending_idx" ON "reseolio"."jobs" USING btree ("run_at","created_at","id") WHERE "reseolio"."jobs"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "jobs_running_lease_idx" ON "reseolio"."jobs" USING btree ("lease_expires_at") WHERE "reseolio"."jobs"."status" = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_name_idempotency_key_idx" ON "reseolio"."jobs" USING btree ("name","idempotency_key") WHERE "reseolio"."jobs"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "jobs_parent_idx" ON "reseolio"."jobs" USING btree ("parent_id") WHERE "reseolio"."jobs"."parent_id" is not null;--> statement-breakpoint
CREATE INDEX "jobs_completed_idx" ON "reseolio"."jobs" USING btree ("completed_at") WHERE "reseolio"."jobs"."status" in ('success', 'dead', 'cancelled');--> statement-breakpoint
CREATE INDEX "jobs_created_idx" ON "reseolio"."jobs" USING btree ("created_at","id");