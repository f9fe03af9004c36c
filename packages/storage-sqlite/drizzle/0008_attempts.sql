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
