/**
 * The fault relay between a client and a real TCP server on port 0: each
 * fault it offers, seen from both ends (what the server got, what came back
 * to the client, how each socket ended) and in its connection log.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../src/fault-proxy.js';
import { portOf } from '../src/net.js';

/** One connection as the server saw it. */
interface Upstream {
  socket: Socket;
  received: Buffer[];
  /** Resolves once at least `n` bytes arrived. */
  bytes(n: number): Promise<Buffer>;
  closed: Promise<void>;
}

/** One connection as the client sees it. */
interface Client {
  socket: Socket;
  received: Buffer[];
  /** Resolves with what arrived once the socket closed, and the error it closed with, if any. */
  closed: Promise<{ data: Buffer; error: string | null }>;
}

let server: Server;
let upstreams: Upstream[];
let waiting: ((u: Upstream) => void)[];
let proxy: FaultProxy;
let clients: Socket[];

function arrived(chunks: Buffer[], on: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const all = Buffer.concat(chunks);
      if (all.length < n) return false;
      on.off('data', onData);
      on.off('close', onClose);
      resolve(all);
      return true;
    };
    const onData = () => void check();
    const onClose = () => reject(new Error(`closed after ${Buffer.concat(chunks).length} of ${n} bytes`));
    if (check()) return;
    on.on('data', onData);
    on.once('close', onClose);
  });
}

beforeEach(async () => {
  upstreams = [];
  waiting = [];
  clients = [];
  server = createServer((socket) => {
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('error', () => undefined);
    const u: Upstream = {
      socket,
      received,
      bytes: (n) => arrived(received, socket, n),
      closed: new Promise((resolve) => socket.once('close', () => resolve())),
    };
    upstreams.push(u);
    waiting.shift()?.(u);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy = await startFaultProxy({ host: '127.0.0.1', port: portOf(server) });
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  await proxy.close();
  for (const u of upstreams) u.socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A client connected through the proxy, and the server's end of it. */
async function open(): Promise<{ client: Client; upstream: Upstream }> {
  const upstream = new Promise<Upstream>((resolve) => waiting.push(resolve));
  const socket = connect(proxy.port, '127.0.0.1');
  clients.push(socket);
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  let error: string | null = null;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error = err.code ?? err.message;
  });
  const closed = new Promise<{ data: Buffer; error: string | null }>((resolve) =>
    socket.once('close', () => resolve({ data: Buffer.concat(received), error })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { client: { socket, received, closed }, upstream: await upstream };
}

const body = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

describe('the fault relay', () => {
  it('pass: every byte goes up, the answer comes back, and the server closing closes the client', async () => {
    const { client, upstream } = await open();
    client.socket.write(body);
    expect(await upstream.bytes(body.length)).toEqual(body);
    upstream.socket.end('answer');
    expect(await client.closed).toEqual({ data: Buffer.from('answer'), error: null });
    expect(proxy.connections).toEqual([{ fault: 'pass', up: body.length }]);
  });

  it('reset-after: exactly that many bytes reach the server, then both sides are reset', async () => {
    proxy.next({ kind: 'reset-after', bytes: 10 });
    const { client, upstream } = await open();
    client.socket.write(body);
    const closed = await client.closed;
    await upstream.closed;
    expect(Buffer.concat(upstream.received)).toEqual(body.subarray(0, 10));
    expect(closed.error).toBe('ECONNRESET');
    expect(proxy.connections).toEqual([{ fault: 'reset-after', up: 10 }]);
  });

  it('stall-after: that many bytes reach the server, then nothing either way while both sockets stay open', async () => {
    proxy.next({ kind: 'stall-after', bytes: 10 });
    const { client, upstream } = await open();
    client.socket.write(body);
    expect(await upstream.bytes(10)).toEqual(body.subarray(0, 10));
    client.socket.write('more');
    upstream.socket.write('an answer that must not arrive');
    // Nothing can announce that nothing happened: look again after a while that a relay would have needed far less of.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Buffer.concat(upstream.received)).toEqual(body.subarray(0, 10));
    expect(client.received).toEqual([]);
    expect(client.socket.destroyed).toBe(false);
    expect(upstream.socket.destroyed).toBe(false);
    expect(proxy.connections).toEqual([{ fault: 'stall-after', up: 10 }]);
  });

  it('swallow-answer: everything goes up; answers pass until that many bytes went up, none after', async () => {
    proxy.next({ kind: 'swallow-answer', afterBytes: 10 });
    const { client, upstream } = await open();
    client.socket.write(body.subarray(0, 5));
    await upstream.bytes(5);
    upstream.socket.write('early');
    expect(await arrived(client.received, client.socket, 5)).toEqual(Buffer.from('early'));
    client.socket.write(body.subarray(5));
    expect(await upstream.bytes(body.length)).toEqual(body);
    // The same close that brought 'answer' through in the pass case: here it comes without the answer.
    upstream.socket.end('late');
    expect(await client.closed).toEqual({ data: Buffer.from('early'), error: null });
    expect(proxy.connections).toEqual([{ fault: 'swallow-answer', up: body.length }]);
  });

  it('drip: the bytes go up in order, `chunk` at a time, `everyMs` apart', async () => {
    proxy.next({ kind: 'drip', chunk: 3, everyMs: 50 });
    const { client, upstream } = await open();
    const first = new Promise<Buffer>((resolve) => upstream.socket.once('data', resolve));
    const started = performance.now();
    client.socket.write(body.subarray(0, 10));
    // The first chunk goes alone: the next one is written 50 ms later.
    expect(await first).toEqual(body.subarray(0, 3));
    expect(await upstream.bytes(10)).toEqual(body.subarray(0, 10));
    // Four chunks, three waits between them: a lower bound, which load can only make longer.
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 50 - 5);
    expect(proxy.connections).toEqual([{ fault: 'drip', up: 10 }]);
  });

  it('next: the faults go to the next connections in order, and `pass` after them', async () => {
    proxy.next({ kind: 'stall-after', bytes: 1 }, { kind: 'swallow-answer', afterBytes: 0 });
    for (let i = 0; i < 3; i++) await open();
    expect(proxy.connections.map((c) => c.fault)).toEqual(['stall-after', 'swallow-answer', 'pass']);
  });

  it('close: ends every relayed connection, so a client is not left hanging', async () => {
    const { client, upstream } = await open();
    await proxy.close();
    await upstream.closed;
    expect((await client.closed).data.length).toBe(0);
    // A fresh one for afterEach to close.
    proxy = await startFaultProxy({ host: '127.0.0.1', port: portOf(server) });
  });
});
