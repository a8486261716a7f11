/**
 * The pack step of a roll-up (SPEC §1 step 2): plan the batches of the `.str`
 * in entpushdir, then pack them PACK_LANES at a time, handing the zips to
 * the pusher in the clock's order as they are made. A `.str` the packer cannot take never holds up the
 * rest (str-trouble.ts), and every planned `.str` not zipped or rejected is
 * reported as left.
 */
import { PACK_LANES, isZenrollError } from '@zenroll/core';
import type { Channel } from './channel.js';
import type { StepContext } from './context.js';
import type { RollupResult } from './events.js';
import { packOne } from './pack-step.js';
import { planBatches, type PushdirContents, type StrEntry } from './plan.js';
import { listDirIfExists, statStrs } from './read.js';
import { ClockKeeper, loadClock } from './sender-clock.js';
import { rejectStr, troubleOf, type StrTrouble } from './str-trouble.js';

export interface PackPlan {
  batches: StrEntry[][];
  keeper: ClockKeeper;
}

/** Plan the batches of the `.str` in entpushdir, oldest scans first; null when there is nothing to pack. */
export async function planPack(ctx: StepContext, contents: PushdirContents): Promise<PackPlan | null> {
  const { paths, config } = ctx;
  const batches = planBatches(await statStrs(paths.entpushdir, contents.strs), config.sender.batchSize);
  ctx.emit({ type: 'planned', strs: contents.strs.length, batches: batches.length });
  if (batches.length === 0) return null;
  const rejected = (await listDirIfExists(paths.rejecteddir)) ?? [];
  const onDisk = [...contents.zips, ...rejected.map((e) => e.name)];
  const clock = await loadClock(paths.clock, config.server, onDisk, ctx.now);
  return { batches, keeper: new ClockKeeper(paths.clock, clock) };
}

export function leaveAll(result: RollupResult, names: Iterable<string>, reason: string): void {
  for (const name of names) result.left.push({ kind: 'str', name, reason });
}

/**
 * Hands zips to the pusher in the order of their tickets, taken when their
 * scheduled times were (the clock's order), whichever batch finishes first.
 * A ticket that made no zip is skipped.
 */
class InOrder {
  readonly #done = new Map<number, (() => void) | null>();
  #taken = 0;
  #next = 0;

  take(): number {
    return this.#taken++;
  }

  /** Ticket `ticket` is settled: `handOff` runs once every earlier ticket has been. */
  settle(ticket: number, handOff: (() => void) | null): void {
    this.#done.set(ticket, handOff);
    for (let h = this.#done.get(this.#next); h !== undefined; h = this.#done.get(this.#next)) {
      this.#done.delete(this.#next++);
      h?.();
    }
  }
}

/**
 * Pack the planned batches, PACK_LANES at a time: one archive compresses
 * on one core (core ziparchive.ts). A `.str` the packer cannot take is
 * settled and its batch packed again without it, in this roll-up. The first
 * error stops new batches; those in flight finish and are handed off.
 */
export async function packAll(
  ctx: StepContext,
  plan: PackPlan,
  out: Channel<string>,
  stop: AbortSignal,
  result: RollupResult,
): Promise<void> {
  const pending = new Set(plan.batches.flat().map((f) => f.name));
  const order = new InOrder();
  let why = 'not zipped: the roll-up was stopped first; it waits for the next one';
  let next = 0;
  const failures: unknown[] = [];
  const lane = async (): Promise<void> => {
    while (failures.length === 0 && next < plan.batches.length) {
      let batch = plan.batches[next++] ?? [];
      while (batch.length > 0) {
        if (ctx.signal?.aborted === true || stop.aborted) return;
        const without = await packOrSettle(ctx, plan, batch, out, result, order);
        if (without === null) {
          for (const f of batch) pending.delete(f.name);
          break;
        }
        pending.delete(without);
        batch = batch.filter((f) => f.name !== without);
      }
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(PACK_LANES, plan.batches.length) }, () => lane().catch((err: unknown) => void failures.push(err))),
    );
    if (failures.length > 0) throw failures[0];
  } catch (err) {
    why = `not zipped: packing stopped at ${isZenrollError(err) ? err.code : 'an error'} (see the pack error); it waits for the next roll-up`;
    throw err;
  } finally {
    leaveAll(result, pending, why);
    await plan.keeper.save();
  }
}

/** Pack one batch; null when it was zipped, or the name of the one `.str` to pack it again without (settled here). */
async function packOrSettle(
  ctx: StepContext,
  plan: PackPlan,
  batch: StrEntry[],
  out: Channel<string>,
  result: RollupResult,
  order: InOrder,
): Promise<string | null> {
  // Taken with the batch's scheduled time: packOne takes that before it first waits.
  const ticket = order.take();
  let zipped;
  try {
    zipped = await packOne(ctx, plan.keeper.clock, batch);
  } catch (err) {
    order.settle(ticket, null);
    const trouble = await troubleOf(
      err,
      ctx.paths.entpushdir,
      batch.map((f) => f.name),
    );
    if (trouble === null) throw err;
    await settle(ctx, trouble, result);
    return trouble.name;
  }
  order.settle(ticket, () => {
    result.zipped.push(zipped);
    ctx.emit({ type: 'zipped', ...zipped });
    out.put(zipped.zip);
  });
  return null;
}

async function settle(ctx: StepContext, trouble: StrTrouble, result: RollupResult): Promise<void> {
  if (trouble.kind === 'leave') {
    result.left.push({
      kind: 'str',
      name: trouble.name,
      reason: `not zipped: ${trouble.code}: ${trouble.message}; it stays for the next roll-up`,
    });
  } else if (trouble.kind === 'gone') {
    // Not lost by this roll-up, but an operator should know a scan went away unsent.
    result.errors.push({
      step: 'pack',
      code: trouble.code,
      message: `${trouble.message}; it was gone from entpushdir before it could be zipped`,
    });
  } else {
    // No SPEC §7 event is the Sender's for this: it is reported at error in the result and as an event.
    const rejected = await rejectStr(ctx, trouble);
    result.errors.push({ step: 'pack', code: trouble.code, message: `${trouble.message}; no zip can hold it: moved to ${rejected.path}` });
    ctx.emit({ type: 'str-rejected', ...rejected });
  }
}
