/** Thrown for things the user must change (trust, a job already going) rather than engine failures. */
export class RefusedError extends Error {}

/**
 * One workbench job at a time across profiling, compression and training: two at once would skew
 * each other's timings. Each service runs its work through the one gate the extension shares.
 */
export class JobGate {
  private active: { owner: object; label: string; controller: AbortController } | undefined;

  /** What is running (e.g. `Quantizing int8-dynamic tiny-bert`), or undefined. */
  get busy(): string | undefined {
    return this.active?.label;
  }

  /** True while `owner`'s job is the one running. */
  runs(owner: object): boolean {
    return this.active?.owner === owner;
  }

  /**
   * Runs `work` as the one job, or refuses naming the job that runs. Aborting the caller's `signal`
   * (or `cancel()`) aborts the controller `work` is given.
   */
  async run<T>(owner: object, label: string, signal: AbortSignal | undefined, work: (controller: AbortController) => Promise<T>): Promise<T> {
    if (this.active) throw new RefusedError(`${this.active.label} is running; wait for it or cancel it first (two jobs at once would skew the timings).`);
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    if (signal?.aborted) controller.abort();
    this.active = { owner, label, controller };
    try {
      return await work(controller);
    } finally {
      this.active = undefined;
    }
  }

  cancel(): void {
    this.active?.controller.abort();
  }
}
