CREATE TABLE `reseolio_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`origin` integer NOT NULL,
	`events` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reseolio_listeners` (
	`id` integer PRIMARY KEY NOT NULL,
	`origin` integer NOT NULL,
	`expires_at` integer NOT NULL
);
