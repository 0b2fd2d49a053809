/**
 * At most `concurrency` password hashes run at once, and at most `maxWaiting` sign-ins wait for one.
 * Hashing runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which DNS
 * lookups and file I/O share: keeping hashing below the pool's size leaves threads for them, so a
 * flood of sign-ins cannot starve token issuance or payload hooks.
 */
export class HashQueueFull extends Error {
  override name = 'HashQueueFull';
}

export type HashQueue = {
  /** Runs `work` when a slot is free. `mayWait`: wait even past `maxWaiting` (an administrator, not a stranger). */
  run<T>(work: () => Promise<T>, options?: { mayWait?: boolean }): Promise<T>;
  readonly waiting: number;
};

export function createHashQueue({ concurrency, maxWaiting }: { concurrency: number; maxWaiting: number }): HashQueue {
  let running = 0;
  const queue: Array<() => void> = [];
  // A finishing hash hands its slot straight to the next waiter, so no newcomer slips in between.
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else running--;
  };
  return {
    async run(work, options = {}) {
      if (running >= concurrency) {
        if (queue.length >= maxWaiting && !options.mayWait) throw new HashQueueFull('too many password checks waiting');
        await new Promise<void>((resolve) => queue.push(resolve));
      } else {
        running++;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
    get waiting() {
      return queue.length;
    },
  };
}
