import { CommanderError } from 'commander';
import { CommandFailure, EXIT, type ExitCode, UsageError } from './exit-codes.ts';
import { buildProgram } from './program.ts';

/**
 * Runs one command line (`argv` without node and the script) and returns its exit code.
 * Errors end here: a usage error exits 2, anything else that went wrong exits 1, each with
 * its message on stderr (stdout stays for results).
 */
export async function run(argv: readonly string[]): Promise<ExitCode> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return (process.exitCode as ExitCode | undefined) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has written its message (or the help, or the version) already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n(add --help for usage)\n`);
      return EXIT.usage;
    }
    process.stderr.write(`error: ${describeFailure(error)}\n`);
    return EXIT.failure;
  }
}

/** The message, and the causes a storage error wraps (the driver's own words). */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof CommandFailure) return error.message;
  const lines = [error.message];
  for (let cause = error.cause; cause instanceof Error && lines.length < 4; cause = cause.cause) {
    if (!lines[lines.length - 1]!.includes(cause.message)) lines.push(`  cause: ${cause.message}`);
  }
  return lines.join('\n');
}
