// Types of crash-soak.mjs, for the CI version of the soak (packages/cli/test/crash-soak.test.ts).
export interface Kill {
  server: 'LEAF1' | 'INT1' | 'ROOT';
  /** A named crash point (`name[@N]`): the process is started with ZENROLL_CRASH_AT set to it. */
  point?: string;
  /** Without a point: SIGKILL this long after the round starts. */
  afterMs?: number;
}

export const NAMED: (Kill & { point: string })[];

export interface SoakFigures {
  rounds: number;
  namedKills: number;
  randomKills: number;
  killsAtStartup: number;
  notReached: string[];
  restarts: number;
  /** Roll-ups that met a lock a kill left behind (and waited it out). */
  lockWaits: number;
  strsGiven: number;
  strsChecked: number;
  zipsVerified: number;
  recordsChecked: number;
  lost: number;
  doubled: number;
  leftovers: number;
  failures: { round: number; kill: string; problems: string[] }[];
}

export class CrashSoak {
  constructor(o: { dir: string; log?: (line: string) => void; filesPerRound?: number; seed?: number });
  readonly figures: SoakFigures;
  start(): Promise<void>;
  stop(): Promise<void>;
  runRound(kill: Kill): Promise<{ killed: { server: string; point: string | null }[]; problems: string[] }>;
  /** By default within 80 % of the quickest round so far, so that it lands while the tree is at work. */
  randomKill(maxMs?: number): Kill;
}
