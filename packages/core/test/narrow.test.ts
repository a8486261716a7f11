import { describe, expect, it } from 'vitest';
import { fieldOf, isOneOf, isRecord, messageOf } from '../src/index.js';

describe('type guards for values of unknown shape', () => {
  it('isRecord: objects only, not null or arrays', () => {
    expect([{}, { a: 1 }, new Error('x')].map(isRecord)).toEqual([true, true, true]);
    expect([null, undefined, [], 'a', 1].map(isRecord)).toEqual([false, false, false, false, false]);
  });

  it('fieldOf reads a property, or gives undefined when there is no object', () => {
    expect(fieldOf({ code: 'ENOENT' }, 'code')).toBe('ENOENT');
    expect(fieldOf({}, 'code')).toBeUndefined();
    expect(fieldOf('ENOENT', 'length')).toBeUndefined();
    expect(fieldOf(null, 'code')).toBeUndefined();
  });

  it('isOneOf tells a listed literal from anything else', () => {
    const roles = ['leaf', 'root'] as const;
    expect(isOneOf(roles, 'leaf')).toBe(true);
    expect(isOneOf(roles, 'LEAF')).toBe(false);
    expect(isOneOf(roles, undefined)).toBe(false);
  });

  it('messageOf: an Error’s message, else the thrown value as text', () => {
    expect(messageOf(new Error('disk full'))).toBe('disk full');
    expect(messageOf('a thrown string')).toBe('a thrown string');
    expect(messageOf(undefined)).toBe('undefined');
  });
});
