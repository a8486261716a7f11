/**
 * The checks `zenroll serve` runs before it takes work (issue 16): the local
 * half of `zenroll doctor`. What the service cannot work without (a missing
 * folder, an unreadable key, password or TLS file, a bad schedule) stops it
 * with SETUP_INVALID, exit 2 and the fix, instead of showing up at the 02:00
 * roll-up; what may mend itself (a parent or a directory that does not answer
 * now) lets it start degraded: said in the log, the status log, `zenroll
 * status` and `/v1/health`, and checked again until it mends.
 */
import { ZenrollError, messageOf, type Config } from '@zenroll/core';
import { doctorChecks, type Check, type DoctorCheck } from '../commands/doctor.js';

export interface StartupReport {
  fatal: Check[];
  warnings: Check[];
  /** The checks that gave the warnings, to run again while the service runs. */
  recheck: DoctorCheck[];
}

async function runOne(c: DoctorCheck): Promise<Check> {
  try {
    return { name: c.name, ...(await c.run()) };
  } catch (err) {
    return { name: c.name, ok: false, detail: messageOf(err) };
  }
}

export async function startupChecks(config: Config): Promise<StartupReport> {
  const checks = doctorChecks(config, { startup: true }).filter((c) => c.startup !== null);
  const results = await Promise.all(checks.map(runOne));
  const fatal: Check[] = [];
  const warnings: Check[] = [];
  const recheck: DoctorCheck[] = [];
  for (const [i, r] of results.entries()) {
    const c = checks[i];
    if (c === undefined || r.ok) continue;
    if (c.startup === 'fatal') fatal.push(r);
    else {
      warnings.push(r);
      recheck.push(c);
    }
  }
  return { fatal, warnings, recheck };
}

/** The error `serve` exits 2 with: one line per failed check, each naming its fix. */
export function setupError(fatal: Check[]): ZenrollError {
  const lines = fatal.map((c) => `  ${c.name}: ${c.detail}`).join('\n');
  return new ZenrollError(
    'SETUP_INVALID',
    `zenroll serve cannot start; ${fatal.length === 1 ? 'this check fails' : `these ${fatal.length} checks fail`}:\n${lines}`,
    {
      details: { fix: 'fix each line above, then start it again (zenroll doctor runs the same checks and more)', checks: fatal },
    },
  );
}

/** "parent: …" reasons the service is degraded, by check name; checked again every `everyMs` until none is left. */
export class Degraded {
  readonly #reasons = new Map<string, string>();
  readonly #recheck: DoctorCheck[];
  #timer: NodeJS.Timeout | null = null;

  constructor(warnings: Check[], recheck: DoctorCheck[]) {
    for (const w of warnings) this.#reasons.set(w.name, w.detail);
    this.#recheck = recheck;
  }

  list(): string[] {
    return [...this.#reasons].map(([name, detail]) => `${name}: ${detail}`);
  }

  /** Check again what was wrong; `onMended` hears each that is right now. */
  start(everyMs: number, onMended: (name: string) => void): void {
    if (this.#reasons.size === 0) return;
    const tick = async () => {
      for (const c of this.#recheck) {
        if (!this.#reasons.has(c.name)) continue;
        const r = await runOne(c);
        if (r.ok) {
          this.#reasons.delete(c.name);
          onMended(c.name);
        } else this.#reasons.set(c.name, r.detail);
      }
      if (this.#reasons.size === 0) this.stop();
    };
    this.#timer = setInterval(() => void tick(), everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
