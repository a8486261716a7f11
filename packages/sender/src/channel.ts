/**
 * A queue between the packer and the pusher of one roll-up: the packer puts
 * each zip as it is made, the pusher takes them in that order (the clock's
 * order, oldest first) and gets `undefined` once the packer has closed it.
 */
export class Channel<T> {
  readonly #items: T[] = [];
  readonly #waiting: ((value: T | undefined) => void)[] = [];
  #closed = false;

  put(value: T): void {
    if (this.#closed) throw new Error('put on a closed channel');
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(value);
    else this.#items.push(value);
  }

  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(undefined);
  }

  /** The next value, or undefined when the channel is closed and empty. */
  next(): Promise<T | undefined> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}
