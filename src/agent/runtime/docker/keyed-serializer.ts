/**
 * Runs operations on the same key one after another. The runtime keys by task: two overlapping
 * `ensureRunning` calls for one task could otherwise both see a container that exited as "created"
 * and start it twice, and a `remove` could race a create.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
