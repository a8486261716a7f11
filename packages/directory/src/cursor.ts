/**
 * How far the directory has applied the journal: `applied.log`, one seq per
 * line, appended and fsynced after each record is applied, compacted to one
 * line now and then. Appending never overwrites the last good value, so a
 * crash at any point leaves a cursor at most one record behind; re-applying
 * that record is harmless (LdapDirectory.apply is idempotent).
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { errnoCode, fsError, writeFileDurable, ZenrollError } from '@zenroll/core';

const COMPACT_BYTES = 64 * 1024;

export class Cursor {
  readonly #path: string;
  #handle: FileHandle | null;
  #size: number;
  #seq: number;

  // biome-ignore lint/style/useConsistentMemberAccessibility: a constructor cannot be #private; the static factory is the way in
  private constructor(path: string, handle: FileHandle | null, size: number, seq: number) {
    this.#path = path;
    this.#handle = handle;
    this.#size = size;
    this.#seq = seq;
  }

  static async #load(path: string): Promise<{ text: string; whole: string; seq: number }> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fsError(err, 'read the journal cursor', path);
    }
    // A torn last line (no newline yet) is dropped: the value before it stands.
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    const last = whole.trimEnd().split('\n').pop() ?? '';
    const seq = last === '' ? 0 : Number(last);
    if (!Number.isSafeInteger(seq) || seq < 0) {
      throw new ZenrollError(
        'JOURNAL_CORRUPT',
        `journal cursor ${path} ends with ${JSON.stringify(last.slice(0, 40))}, not a sequence number`,
      );
    }
    return { text, whole, seq };
  }

  /** The cursor's value, read without changing the file. */
  static async peek(path: string): Promise<number> {
    return (await Cursor.#load(path)).seq;
  }

  static async open(path: string): Promise<Cursor> {
    const { text, whole, seq } = await Cursor.#load(path);
    const cursor = new Cursor(path, null, 0, seq);
    // Rewriting also drops a torn tail, which a later append would glue onto a new number.
    if (whole !== text || whole.length > COMPACT_BYTES || text === '') await cursor.#compact();
    else await cursor.#reopen(Buffer.byteLength(text));
    return cursor;
  }

  get value(): number {
    return this.#seq;
  }

  async advance(seq: number): Promise<void> {
    if (seq <= this.#seq) return;
    const line = Buffer.from(`${seq}\n`);
    const handle = this.#handle;
    if (handle === null) throw new ZenrollError('INTERNAL', 'the journal cursor is closed');
    try {
      await handle.write(line, 0, line.length, this.#size);
      await handle.datasync();
    } catch (err) {
      throw fsError(err, 'advance the journal cursor', this.#path);
    }
    this.#size += line.length;
    this.#seq = seq;
    if (this.#size > COMPACT_BYTES) await this.#compact();
  }

  async #compact(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
    await writeFileDurable(this.#path, `${this.#seq}\n`);
    await this.#reopen(Buffer.byteLength(`${this.#seq}\n`));
  }

  async #reopen(size: number): Promise<void> {
    try {
      this.#handle = await open(this.#path, 'r+');
    } catch (err) {
      throw fsError(err, 'open the journal cursor', this.#path);
    }
    this.#size = size;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }
}
