// A readers-writer lock for one open file: reads and writes of the staging file run in
// parallel (pread/pwrite at distinct offsets are safe), a commit runs alone so the version
// it produces is one consistent snapshot.
export class RwLock {
  private readers = 0;
  private writer = false;
  private readonly waiting: Array<{ exclusive: boolean; wake: () => void }> = [];

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.waiting.length > 0) await this.enqueue(false);
    else this.readers++;
    try {
      return await fn();
    } finally {
      this.readers--;
      this.drain();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0 || this.waiting.length > 0) await this.enqueue(true);
    else this.writer = true;
    try {
      return await fn();
    } finally {
      this.writer = false;
      this.drain();
    }
  }

  private enqueue(exclusive: boolean): Promise<void> {
    return new Promise((wake) => this.waiting.push({ exclusive, wake }));
  }

  /** Admits waiters in arrival order: one exclusive, or every shared up to the next exclusive. */
  private drain(): void {
    if (this.writer) return;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (next.exclusive) {
        if (this.readers > 0) return;
        this.waiting.shift();
        this.writer = true;
        next.wake();
        return;
      }
      this.waiting.shift();
      this.readers++;
      next.wake();
    }
  }
}
