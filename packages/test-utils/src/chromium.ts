import { existsSync } from 'node:fs';

/**
 * Debian's Chromium (`apt-get install -y chromium`; never `playwright install`), or
 * `CHROMIUM_PATH`.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether browser tests must skip: a developer machine without Chromium skips them, visibly;
 * CI installs Chromium (.ci/run) and sets CI, so there a missing browser fails them.
 */
export const noChromium = !existsSync(CHROMIUM_PATH) && !process.env.CI;

/**
 * The launch options of every browser test: headless, no sandbox (CI runs as root), and none
 * of Chromium's background connections, which this machine's closed network refuses.
 */
export const CHROMIUM_LAUNCH = Object.freeze({
  executablePath: CHROMIUM_PATH,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
  ],
});
