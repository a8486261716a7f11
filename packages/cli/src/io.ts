/** Where a command writes. The real process streams by default; tests capture them. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (progress bars, colours). */
  isTty: boolean;
  /** stdout itself, for a progress bar that needs the terminal (its width, cursor moves); absent when captured. */
  stream?: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTty: process.stdout.isTTY === true,
    stream: process.stdout,
    env: process.env,
    cwd: process.cwd(),
  };
}

export function captureIo(cwd = process.cwd()): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return {
    out: (t) => {
      o += t;
    },
    err: (t) => {
      e += t;
    },
    isTty: false,
    env: {},
    cwd,
    stdout: () => o,
    stderr: () => e,
  };
}
