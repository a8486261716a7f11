/**
 * The service's own health checks (SPEC §9); the Receiver adds `receiver`,
 * and others add theirs to the list in service.ts. Each says why when it is
 * not ok, naming the folder or the lock.
 */
import { access, constants } from 'node:fs/promises';
import { fsError, type Config, type HealthCheck, type Lock } from '@zenroll/core';

/** `lock`: serve.lock is still this process's (not taken over by another node). */
export function lockCheck(lock: Lock): HealthCheck {
  return {
    name: 'lock',
    run: async () =>
      lock.lost ? { state: 'failing', reason: `${lock.path} was taken over by another node: this one is stopping` } : { state: 'ok' },
  };
}

/** `folders`: every folder of the server answers and is writable (a shared disk gone, read-only or hung fails here). */
export function foldersCheck(config: Config): HealthCheck {
  const d = config.dirs;
  const dirs = [d.statedir, d.entmergedir, d.entpushdir, d.dbdir].filter((x): x is string => x !== null);
  return {
    name: 'folders',
    run: async () => {
      for (const dir of dirs) {
        try {
          await access(dir, constants.W_OK);
        } catch (err) {
          return { state: 'failing', reason: fsError(err, 'write into', dir).message };
        }
      }
      return { state: 'ok' };
    },
  };
}
