// @zenroll/lab: data for zenroll's tests, benchmarks and `zenroll demo`.
// The main entry is the .str scan generator; raw and mutated zips are in
// "@zenroll/lab/zipcraft" (which needs fast-check, an optional peer).
export {
  DEFAULT_BASE_MTIME_MS,
  DEFAULT_MAX_BYTES,
  DEFAULT_MIN_BYTES,
  deflateRatio,
  generateStr,
  writeFixtures,
  type FixturesOptions,
  type FixturesSummary,
  type SizeOptions,
  type StrFile,
} from './strgen.js';
