CREATE TABLE `reseolio_schedules` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`cron` text NOT NULL,
	`timezone` text NOT NULL,
	`args` text NOT NULL,
	`status` text NOT NULL,
	`catch_up` text NOT NULL,
	`overlap` text NOT NULL,
	`catch_up_window_ms` integer NOT NULL,
	`next_run_at` integer,
	`last_run_at` integer,
	`last_job_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reseolio_schedules_due_idx` ON `reseolio_schedules` (`name`,`next_run_at`) WHERE "reseolio_schedules"."status" = 'active' AND "reseolio_schedules"."next_run_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `schedule_id` text;--> statement-breakpoint
CREATE INDEX `reseolio_jobs_schedule_idx` ON `reseolio_jobs` (`schedule_id`,`id`) WHERE "reseolio_jobs"."schedule_id" IS NOT NULL;