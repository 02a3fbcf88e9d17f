/**
 * Telling the engine's answers (an HTTP status: the request was wrong for this container) from
 * failures to reach the engine at all (worth retrying, and never the container's fault).
 */

/** The HTTP status of an engine error (dockerode sets statusCode); undefined for transport errors. */
export function statusCode(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Node's system errors (ECONNREFUSED, ENOENT of the socket, ECONNRESET, ...) carry a string code. */
export function isTransportError(error: unknown): boolean {
  return statusCode(error) === undefined && typeof (error as { code?: unknown } | null)?.code === 'string';
}

/** Runs an engine call, treating the listed statuses (e.g. 304 already stopped, 404 gone) as success. */
export async function tolerating(statusCodes: number[], operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch (error) {
    if (!statusCodes.includes(statusCode(error) ?? -1)) throw error;
  }
}
