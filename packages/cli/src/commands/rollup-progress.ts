/**
 * What a foreground roll-up shows as it goes (SPEC §1: no command sits
 * silent): a line per zip, each failed try and the next wait as they happen,
 * and on a terminal a progress bar kept under the lines, counting down each
 * retry wait. The bar is cli-progress (maintained, one dependency, used by
 * many CLIs): it knows the terminal's width, redraws without flicker and
 * prints lines above itself, which a hand-drawn `\r` line got wrong on narrow
 * terminals. Off a terminal (a pipe, cron, --json) only the plain lines.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { SenderEvent } from '@zenroll/sender';
import type { Io } from '../io.js';
import { eventLine, pad, seconds } from './rollup.js';

export class Reporter {
  readonly #io: Io;
  readonly #json: boolean;
  #toZip = 0;
  #zipped = 0;
  #toSend = 0;
  #done = 0;
  #multi: MultiBar | null = null;
  #bar: SingleBar | null = null;
  #countdown: NodeJS.Timeout | null = null;

  constructor(io: Io, json: boolean) {
    this.#io = io;
    this.#json = json;
  }

  get #terminal(): NodeJS.WriteStream | null {
    const s = this.#io.stream;
    return !this.#json && s?.isTTY === true ? s : null;
  }

  #status(): string {
    const parts = [
      this.#toZip > 0 ? `zipped ${this.#zipped}/${this.#toZip}` : '',
      this.#toSend > 0 ? `sent ${this.#done}/${this.#toSend}` : '',
    ];
    return parts.filter(Boolean).join(', ');
  }

  #draw(extra = ''): void {
    const stream = this.#terminal;
    const total = this.#toZip + this.#toSend;
    if (stream === null || total === 0) return;
    const payload = { status: [this.#status(), extra].filter(Boolean).join(' · ') };
    if (this.#bar === null) {
      // linewrap: a long message above the bar wraps at the terminal's width instead of being cut off there.
      this.#multi = new MultiBar(
        { stream, format: ' {bar} {percentage}% | {status}', hideCursor: true, clearOnComplete: true, barsize: 24, linewrap: true },
        Presets.shades_classic,
      );
      this.#bar = this.#multi.create(total, this.#zipped + this.#done, payload);
    } else {
      this.#bar.setTotal(total);
      this.#bar.update(this.#zipped + this.#done, payload);
    }
  }

  /** A line above the bar, or on its own without one. */
  #line(text: string, toErr = false): void {
    if (this.#multi !== null) {
      this.#multi.log(`${text}\n`);
      this.#multi.update();
    } else if (toErr) this.#io.err(`${text}\n`);
    else this.#io.out(`${text}\n`);
  }

  #stopCountdown(): void {
    if (this.#countdown !== null) clearInterval(this.#countdown);
    this.#countdown = null;
  }

  on(e: SenderEvent): void {
    if (e.type === 'planned') this.#toZip = e.batches;
    if (e.type === 'zipped') this.#zipped += 1;
    if (e.type === 'queued') this.#toSend = e.zips;
    if (e.type === 'sent' || e.type === 'rejected') this.#done += 1;
    if (this.#json) return;
    this.#stopCountdown();
    const line = eventLine(e);
    if (line !== undefined) this.#line(line);
    if (e.type === 'retry') {
      this.#line(`retry     ${e.zip}: ${e.reason}; try ${e.tries + 1} of ${e.of} in ${seconds(e.delayMs)}`, true);
      const until = Date.now() + e.delayMs;
      const tick = () => this.#draw(`try ${e.tries + 1} of ${e.of} in ${seconds(Math.max(0, until - Date.now()))}`);
      tick();
      if (this.#terminal !== null) {
        this.#countdown = setInterval(tick, 1000);
        this.#countdown.unref();
      }
      return;
    }
    if (e.type === 'send-failed' && e.final) this.#line(`${pad('failed')}${e.zip}: ${e.reason}`, true);
    this.#draw();
  }

  end(): void {
    this.#stopCountdown();
    this.#multi?.stop();
    this.#multi = null;
    this.#bar = null;
  }
}
