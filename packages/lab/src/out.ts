/** A scan file being written: CRLF lines into a buffer of the file's exact size. */
export class Out {
  /** Unpooled and filled to the last byte before it is returned. */
  readonly buf: Buffer;
  off = 0;
  /** Lines stop here; the trailer moves it to the end of the buffer. */
  limit: number;

  constructor(cap: number) {
    this.buf = Buffer.allocUnsafeSlow(cap);
    this.limit = cap;
  }

  /** Writes one CRLF-terminated line if it fits under the limit; returns false when it does not. */
  line(s: string): boolean {
    // A line of n UTF-16 units takes at most 3n bytes: only near the limit is
    // the exact byte length needed.
    const need = (s.length * 3 > this.limit - this.off - 2 ? Buffer.byteLength(s, 'utf8') : s.length) + 2;
    if (this.off + need > this.limit) return false;
    this.off += this.buf.write(s, this.off, 'utf8');
    this.buf[this.off++] = 13;
    this.buf[this.off++] = 10;
    return true;
  }
}
