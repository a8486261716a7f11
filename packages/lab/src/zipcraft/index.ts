// "@zenroll/lab/zipcraft": zips built field by field, to bend exactly one
// thing of a valid zip (rawzip.ts), and random mutants of a zip for fuzzing
// a verifier (mutants.ts, on fast-check).
export { buildZip, localRecord, zip64Extra, type RawEntry, type ZipOptions } from './rawzip.js';
export {
  describeMutations,
  essence,
  mutantArb,
  mutate,
  mutationArb,
  runMutant,
  type MutantOutcome,
  type Mutation,
  type RunMutantOptions,
  type Verified,
} from './mutants.js';
