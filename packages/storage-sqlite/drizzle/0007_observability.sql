ALTER TABLE `reseolio_jobs` ADD `trace_context` text;--> statement-breakpoint
ALTER TABLE `reseolio_jobs` ADD `progress` text;