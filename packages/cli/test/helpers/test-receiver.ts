/**
 * The protocol-speaking test Receiver of the Sender's tests
 * (packages/sender/test/helpers/test-receiver.ts), for tests here that need
 * a parent. It is loaded by URL so that this package's typecheck does not
 * take another package's test sources in (they lie outside its rootDir);
 * the interface below is the part these tests use.
 */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; error?: string; retryAfterS?: number }
  | { kind: 'drop' }
  | { kind: 'drop-after-store' }
  | { kind: 'stall' };

export interface TestReceiver {
  url: string;
  discardBefore: string | null;
  readonly attempts: { name: string; outcome: number | string }[];
  readonly stored: { name: string; sha256: string; bytes: number; path: string }[];
  readonly faults: Fault[];
  failNext(n: number, fault: Fault): void;
  failZip(name: string, fault: Fault): void;
  close(): Promise<void>;
}

const MODULE = new URL('../../../sender/test/helpers/test-receiver.ts', import.meta.url).href;

export async function startTestReceiver(options: {
  dir: string;
  server?: string;
  tree?: string;
  discardBefore?: string | null;
  /** HTTPS with this certificate (PEM files). */
  tls?: { cert: string; key: string };
}): Promise<TestReceiver> {
  const mod = (await import(MODULE)) as { TestReceiver: { start(o: typeof options): Promise<TestReceiver> } };
  return mod.TestReceiver.start(options);
}
