/**
 * Where a JSON text first breaks the grammar (RFC 8259), found by a scan of
 * our own: `JSON.parse` says only that it failed, and the wording and position
 * of V8's message are no interface to build on. Pure; used only after
 * `JSON.parse` has refused a text, to point a person at the spot.
 */

export interface JsonSyntaxError {
  /** Offset of the first character that cannot be there (the text's length when it ends too early). */
  offset: number;
  reason: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u']);

class Fail {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/** The first syntax error of `text`, or null when it is valid JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const shownAt = (at: number) => (at >= text.length ? 'the end of the text' : JSON.stringify(text[at]));
  const fail = (reason: string, at = i): never => {
    // Wherever it stands, a comment is the likeliest slip in a hand-edited config.
    const comment = text[at] === '/' && (text[at + 1] === '/' || text[at + 1] === '*');
    throw new Fail(at, comment ? 'a comment (plain JSON has none)' : reason);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };
  const expect = (ch: string, what: string) => {
    if (text[i] !== ch) fail(`expected ${what}, found ${shownAt(i)}`);
    i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail('a string that is never closed');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('a control character (a line break, say) inside a string');
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined || !ESCAPES.has(e)) fail(`a backslash before ${shownAt(i + 1)}, which is no escape`, i + 1);
        if (e === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u without four hex digits', i + 2);
        i += e === 'u' ? 6 : 2;
      } else i++;
    }
  };
  const members = (close: string, one: () => void) => {
    i++; // the opening bracket
    ws();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      one();
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      expect(',', `"," or "${close}"`);
      ws();
      if (text[i] === close) fail('a trailing comma (plain JSON has none)');
    }
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      members('}', () => {
        if (text[i] !== '"') fail(`expected a "quoted" key, found ${shownAt(i)}`);
        string();
        ws();
        expect(':', '":"');
        value();
      });
      return;
    }
    if (ch === '[') {
      members(']', value);
      return;
    }
    if (ch === '"') {
      string();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    const n = NUMBER.exec(text);
    if (n !== null && n[0] !== '-') {
      i += n[0].length;
      return;
    }
    fail(i >= text.length ? 'the text ends where a value should be' : `expected a value, found ${shownAt(i)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`${shownAt(i)} after the end of the value`);
    return null;
  } catch (err) {
    if (err instanceof Fail) return { offset: err.offset, reason: err.reason };
    throw err;
  }
}
