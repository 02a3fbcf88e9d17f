export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was last seen, appended to the timeout message so a failure explains itself. */
  detail?: () => string | Promise<string>;
}

/**
 * Polls `probe` until it returns something truthy and returns that, or fails naming `what`. A probe
 * that throws is tried again (the API or engine may be catching up); its last error joins the
 * timeout message. For waiting on controllers converging in real time: tests, and `berth local --once`.
 */
export async function eventually<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  options: EventuallyOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20, detail } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: Error | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error as Error;
    }
    if (Date.now() > deadline) {
      const seen = detail ? `\n${await detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
