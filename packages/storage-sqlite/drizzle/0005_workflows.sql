CREATE TABLE `reseolio_signals` (
	`id` text PRIMARY KEY NOT NULL,
	`job_id` text NOT NULL,
	`topic` text NOT NULL,
	`payload` text NOT NULL,
	`idempotency_key` text,
	`created_at` integer NOT NULL,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reseolio_signals_job_idempotency_key_uq` ON `reseolio_signals` (`job_id`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `reseolio_signals_unconsumed_idx` ON `reseolio_signals` (`job_id`,`topic`,`id`) WHERE "reseolio_signals"."consumed_at" IS NULL;--> statement-breakpoint
CREATE TABLE `reseolio_steps` (
	`job_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`job_id`, `key`)
);
--> statement-breakpoint
DROP INDEX `reseolio_jobs_pending_idx`;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `waiting_for` text;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `wake_topic` text;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `wake_children` integer;--> statement-breakpoint
CREATE INDEX `reseolio_jobs_claimable_idx` ON `reseolio_jobs` (`run_at`,`created_at`) WHERE "reseolio_jobs"."status" IN ('pending', 'waiting');