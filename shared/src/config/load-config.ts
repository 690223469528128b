import { z } from 'zod';

/** Variables whose values are never echoed in an error (SPEC §8: secrets never logged). */
const SECRET_NAME = /SECRET|PASSWORD|TOKEN|PRIVATE|API_KEY/;

/** Raised when the environment does not satisfy a service's config schema; lists every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses the environment once with a zod object whose keys are variable names, reporting every bad or
 * missing variable in one error (not just the first), and freezes the result.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): Readonly<z.output<S>> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = issue.path.length === 0 ? '(environment)' : String(issue.path[0]);
      const value = env[variable];
      const shown =
        value === undefined
          ? 'missing'
          : SECRET_NAME.test(variable)
            ? 'value not shown'
            : `got ${JSON.stringify(value)}`;
      return `${variable}: ${issue.message} (${shown})`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(parsed.data);
}

/** For main.ts: the parsed config, or the process exits with every bad variable named. */
export function loadConfigOrExit<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): Readonly<z.output<S>> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** A TCP port number given as a string. */
export const port = () => z.coerce.number().int().min(1).max(65535);

/** A port to listen on; 0 asks the system for a free one (tests run many services side by side). */
export const listenPort = () => z.coerce.number().int().min(0).max(65535);

/** A positive integer given as a string. */
export const positiveInt = () => z.coerce.number().int().positive();
