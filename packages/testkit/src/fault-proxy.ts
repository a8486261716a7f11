/**
 * Network faults between a Sender and a Receiver: a TCP relay that does to
 * each new connection what it is told (pass, reset or stall after so many
 * bytes towards the Receiver, swallow the answer, drip the body slowly). It
 * forwards raw bytes, so TLS stays end to end, as through a real firewall.
 * (The CONNECT proxy that can deny a tunnel is connect-proxy.ts.)
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { portOf } from './net.js';

export type NetFault =
  | { kind: 'pass' }
  /** Forward this many bytes towards the Receiver, then reset both sides (RST). */
  | { kind: 'reset-after'; bytes: number }
  /** Forward this many bytes towards the Receiver, then nothing either way; the sockets stay open. */
  | { kind: 'stall-after'; bytes: number }
  /** Forward everything towards the Receiver; nothing back once this many bytes went up: the answer is lost. */
  | { kind: 'swallow-answer'; afterBytes: number }
  /** Forward towards the Receiver `chunk` bytes every `everyMs`. */
  | { kind: 'drip'; chunk: number; everyMs: number };

export interface ConnectionLog {
  fault: NetFault['kind'];
  /** Bytes forwarded towards the Receiver. */
  up: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  readonly connections: ConnectionLog[];
  /** Faults for the next new connections, in order; after them, `pass`. */
  next(...faults: NetFault[]): void;
  close(): Promise<void>;
}

function relay(client: Socket, upstream: Socket, fault: NetFault, log: ConnectionLog): void {
  const cut = () => {
    client.resetAndDestroy();
    upstream.resetAndDestroy();
  };
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  let stalled = false;
  upstream.on('data', (c: Buffer) => {
    if (stalled || (fault.kind === 'swallow-answer' && log.up >= fault.afterBytes)) return;
    client.write(c);
  });
  let queue = Promise.resolve();
  client.on('data', (c: Buffer) => {
    if (stalled) return;
    if (fault.kind === 'reset-after' || fault.kind === 'stall-after') {
      const room = fault.bytes - log.up;
      if (c.length >= room) {
        upstream.write(c.subarray(0, Math.max(0, room)));
        log.up += Math.max(0, room);
        if (fault.kind === 'reset-after') setImmediate(cut);
        else stalled = true;
        return;
      }
    }
    if (fault.kind === 'drip') {
      client.pause();
      queue = queue.then(async () => {
        for (let at = 0; at < c.length; at += fault.chunk) {
          if (upstream.destroyed) return;
          upstream.write(c.subarray(at, at + fault.chunk));
          log.up += Math.min(fault.chunk, c.length - at);
          await new Promise((resolve) => setTimeout(resolve, fault.everyMs));
        }
        client.resume();
      });
      return;
    }
    upstream.write(c);
    log.up += c.length;
  });
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(portOf(server)));
  });
}

/** A relay to `target` (`host:port`), on `port` (default: any free one). */
export async function startFaultProxy(target: { host: string; port: number }, port = 0): Promise<FaultProxy> {
  const faults: NetFault[] = [];
  const connections: ConnectionLog[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    const fault = faults.shift() ?? { kind: 'pass' };
    const log: ConnectionLog = { fault: fault.kind, up: 0 };
    connections.push(log);
    track(client);
    client.pause();
    const upstream = connect(target.port, target.host, () => {
      relay(client, upstream, fault, log);
      client.resume();
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
  });
  const bound = await listen(server, port);
  return {
    url: `https://127.0.0.1:${bound}`,
    port: bound,
    connections,
    next: (...more) => void faults.push(...more),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
