CREATE TABLE `reseolio_jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`status` text NOT NULL,
	`args` text NOT NULL,
	`result` text,
	`error` text,
	`policy` text NOT NULL,
	`attempt` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`idempotency_key` text,
	`parent_id` text,
	`owner_id` text,
	`lease_expires_at` integer,
	`created_at` integer NOT NULL,
	`run_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reseolio_jobs_name_idempotency_key_uq` ON `reseolio_jobs` (`name`,`idempotency_key`);--> statement-breakpoint
CREATE INDEX `reseolio_jobs_claim_idx` ON `reseolio_jobs` (`status`,`run_at`,`created_at`);--> statement-breakpoint
CREATE INDEX `reseolio_jobs_sweep_idx` ON `reseolio_jobs` (`status`,`lease_expires_at`);--> statement-breakpoint
CREATE INDEX `reseolio_jobs_created_at_idx` ON `reseolio_jobs` (`created_at`);--> statement-breakpoint
CREATE INDEX `reseolio_jobs_parent_id_idx` ON `reseolio_jobs` (`parent_id`);--> statement-breakpoint
CREATE INDEX `reseolio_jobs_completed_at_idx` ON `reseolio_jobs` (`completed_at`);