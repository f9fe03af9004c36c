ALTER TABLE "reseolio"."jobs" ADD COLUMN "trace_context" text;--> statement-breakpoint
ALTER TABLE "reseolio"."jobs" ADD COLUMN "progress" text;