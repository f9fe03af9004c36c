CREATE TABLE `reseolio_rate_limit_starts` (
	`name` text NOT NULL,
	`key` text NOT NULL,
	`started_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reseolio_rate_limit_starts_idx` ON `reseolio_rate_limit_starts` (`name`,`key`,`started_at`);--> statement-breakpoint
DROP INDEX `reseolio_jobs_claimable_idx`;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `priority` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `concurrency_key` text;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `rate_limit_key` text;--> statement-breakpoint
CREATE INDEX `reseolio_jobs_claim_idx` ON `reseolio_jobs` (`priority`,`run_at`,`created_at`) WHERE "reseolio_jobs"."status" IN ('pending', 'waiting');--> statement-breakpoint
CREATE INDEX `reseolio_jobs_flow_idx` ON `reseolio_jobs` (`name`,`concurrency_key`,`rate_limit_key`,"priority" DESC,`run_at`,`created_at`) WHERE "reseolio_jobs"."status" IN ('pending', 'waiting');