/** A roll-up's problem and fix, as an operator reads them at 80 columns on a terminal. */
import { describe, expect, it } from 'vitest';
import { wrapLine } from '../src/commands/rollup.js';

describe('wrapLine', () => {
  it('breaks a long fix at spaces to the width, indented under its text', () => {
    const fix =
      "fix       copy the parent's CA certificate (for a self-signed parent, its tls/server.crt) here and set sender.tls.ca to it; a new server: zenroll init … --parent-ca FILE";
    const lines = wrapLine(fix, 80).split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines.slice(1).every((l) => l.startsWith('          ') && l[10] !== ' ')).toBe(true);
    // Nothing lost: the same words in the same order.
    expect(
      lines
        .map((l) => l.trim())
        .join(' ')
        .replace(/\s+/g, ' '),
    ).toBe(fix.replace(/\s+/g, ' '));
  });

  it('leaves a short line, and a word longer than the width, alone', () => {
    expect(wrapLine('sent      a.zip', 80)).toBe('sent      a.zip');
    const long = `left      ${'x'.repeat(120)}`;
    expect(wrapLine(long, 80)).toBe(long);
  });
});
