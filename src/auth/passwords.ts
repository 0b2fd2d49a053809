import { decoyHash, hashPassword, needsRehash, verifyPassword, type PasswordHashing } from './password.ts';
import { createHashQueue } from './hash-queue.ts';

/** Password hashing as the server uses it: the current parameters, through one bounded queue. */
export type Passwords = {
  /** For the admin API and CLI: waits for a slot however long the queue. */
  hash(password: string): Promise<string>;
  /** For sign-in: throws HashQueueFull when too many checks wait. No stored hash: checks a decoy of the same cost. */
  verify(password: string, stored: string | null | undefined): Promise<boolean>;
  needsRehash(stored: string): boolean;
};

export type PasswordSettings = PasswordHashing & { concurrency: number; maxWaiting: number };

export function createPasswords(settings: PasswordSettings): Passwords {
  const queue = createHashQueue(settings);
  // Made now, not at the first unknown username: that first answer would otherwise take twice as long.
  const decoy = queue.run(() => decoyHash(settings), { mayWait: true });
  decoy.catch(() => {}); // a failure surfaces at the first verify that needs it
  return {
    hash: (password) => queue.run(() => hashPassword(password, settings), { mayWait: true }),
    async verify(password, stored) {
      const against = stored ?? (await decoy);
      return queue.run(() => verifyPassword(password, against));
    },
    needsRehash: (stored) => needsRehash(stored, settings),
  };
}
