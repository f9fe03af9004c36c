CREATE TABLE `reseolio_attempts` (
	`job_id` text NOT NULL,
	`lease_token` text NOT NULL,
	`attempt` integer NOT NULL,
	`worker_id` text,
	`started_at` integer NOT NULL,
	`ended_at` integer NOT NULL,
	`outcome` text NOT NULL,
	`error` text,
	PRIMARY KEY(`job_id`, `lease_token`)
);
--> statement-breakpoint
CREATE INDEX `reseolio_jobs_failed_idx` ON `reseolio_jobs` (`status`,`id`) WHERE "reseolio_jobs"."status" IN ('dead', 'cancelled');