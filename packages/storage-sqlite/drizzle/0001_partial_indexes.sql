DROP INDEX `reseolio_jobs_claim_idx`;--> statement-breakpoint
DROP INDEX `reseolio_jobs_sweep_idx`;--> statement-breakpoint
DROP INDEX `reseolio_jobs_created_at_idx`;--> statement-breakpoint
DROP INDEX `reseolio_jobs_parent_id_idx`;--> statement-breakpoint
DROP INDEX `reseolio_jobs_completed_at_idx`;--> statement-breakpoint
CREATE INDEX `reseolio_jobs_pending_idx` ON `reseolio_jobs` (`run_at`,`created_at`) WHERE "reseolio_jobs"."status" = 'pending';--> statement-breakpoint
CREATE INDEX `reseolio_jobs_running_lease_idx` ON `reseolio_jobs` (`lease_expires_at`) WHERE "reseolio_jobs"."status" = 'running';--> statement-breakpoint
CREATE INDEX `reseolio_jobs_parent_idx` ON `reseolio_jobs` (`parent_id`) WHERE "reseolio_jobs"."parent_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `reseolio_jobs_completed_idx` ON `reseolio_jobs` (`completed_at`) WHERE "reseolio_jobs"."completed_at" IS NOT NULL;