import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonSyntaxError } from '../src/json-syntax.js';

describe('jsonSyntaxError', () => {
  it('finds nothing wrong in what JSON.parse takes', () => {
    for (const ok of ['{}', '[]', ' 1 ', '-0.5e+3', '"a\\u00e9\\n"', '{"a":[1,true,false,null,{"b":"c"}]}', '\n{ "a" : 1 }\n']) {
      expect(jsonSyntaxError(ok), ok).toBeNull();
    }
  });

  it('agrees with JSON.parse on any JSON value and on any string', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(jsonSyntaxError(text)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        let parses = true;
        try {
          JSON.parse(text);
        } catch {
          parses = false;
        }
        expect(jsonSyntaxError(text) === null).toBe(parses);
      }),
    );
  });

  const bad: [string, string, number, RegExp][] = [
    ['trailing comma in an object', '{"a":1,}', 7, /trailing comma/],
    ['trailing comma in an array', '[1,]', 3, /trailing comma/],
    ['a comment', '{ // x\n}', 2, /comment/],
    ['a bare word', '{"a": leaf}', 6, /expected a value, found "l"/],
    ['a single-quoted key', "{'a':1}", 1, /expected a "quoted" key, found "'"/],
    ['a missing colon', '{"a" 1}', 5, /expected ":", found "1"/],
    ['a missing comma', '[1 2]', 3, /expected "," or "]", found "2"/],
    ['cut short', '{"a": 1', 7, /found the end of the text/],
    ['an empty text', '', 0, /ends where a value should be/],
    ['a string never closed', '"abc', 4, /never closed/],
    ['a line break in a string', '"a\nb"', 2, /control character/],
    ['a bad escape', '"\\x"', 2, /no escape/],
    ['a short \\u', '"\\u12"', 3, /four hex digits/],
    ['a leading zero', '01', 1, /after the end of the value/],
    ['a lone minus', '-', 0, /expected a value/],
    ['two values', '{} {}', 3, /"\{" after the end/],
  ];
  for (const [what, text, offset, reason] of bad) {
    it(`points at ${what}`, () => {
      expect(() => JSON.parse(text)).toThrow();
      const e = jsonSyntaxError(text);
      expect(e?.offset).toBe(offset);
      expect(e?.reason).toMatch(reason);
    });
  }
});
