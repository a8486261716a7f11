// Types of zip-fuzz.mjs, for the TypeScript property test.
import type { Arbitrary } from 'fast-check';

export type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'copy'; from: number; to: number; count: number };

export function mutationArb(length: number): Arbitrary<Mutation>;
export function mutantArb(length: number, max?: number): Arbitrary<Mutation[]>;
export function mutate(original: Buffer, mutations: Mutation[]): Buffer;
export function describeMutations(mutations: Mutation[]): string;
export function essence(verified: { prp: unknown; files: unknown }): string;

export interface MutantOutcome {
  outcome: 'identical' | 'rejected' | 'crash' | 'differs' | 'hang';
  code?: string;
  message?: string;
  ms: number;
}

export function runMutant(o: {
  path: string;
  bytes: Buffer;
  verify: (path: string) => Promise<{ prp: unknown; files: unknown }>;
  /** essence() of the original zip's verification. */
  original: string;
  isZenrollError: (err: unknown) => err is { code: string };
  deadlineMs?: number;
}): Promise<MutantOutcome>;
