/**
 * The CONNECT proxy in front of a real TCP echo server on port 0: a tunnel
 * carries bytes both ways and is recorded with its target and origin; a
 * denied one is answered 403, recorded as denied, and carries nothing.
 */
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../src/connect-proxy.js';
import { portOf } from '../src/net.js';

let echo: Server;
let echoed: Socket[];
let proxy: ConnectProxy;
let target: string;

beforeEach(async () => {
  echoed = [];
  echo = createServer((s) => {
    echoed.push(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  target = `127.0.0.1:${portOf(echo)}`;
  proxy = await startConnectProxy();
});

afterEach(async () => {
  await proxy.close();
  for (const s of echoed) s.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** CONNECT through the proxy: its status, and the tunnel's socket when it is one. */
function tunnel(to: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy.url}`, { method: 'CONNECT', path: to, agent: false });
    req.once('connect', (res, socket: Socket) => resolve({ status: res.statusCode ?? 0, socket }));
    req.once('response', (res) => reject(new Error(`answered ${res.statusCode} as a plain request`)));
    req.once('error', reject);
    req.end();
  });
}

/** Write `text` into the tunnel and read it back from the echo server. */
function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    socket.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= text.length) resolve(got);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
    socket.write(text);
  });
}

describe('the CONNECT proxy', () => {
  it('tunnels to the target asked for and records it, with the address it came from', async () => {
    const t = await tunnel(target);
    expect(t.status).toBe(200);
    expect(await roundTrip(t.socket, 'ping through the tunnel')).toBe('ping through the tunnel');
    t.socket.destroy();
    expect(proxy.connects).toEqual([{ target, from: '127.0.0.1', denied: false }]);
    expect(echoed).toHaveLength(1);
  });

  it('deny(n): the next n CONNECTs get 403 and are recorded as denied; the one after is tunnelled', async () => {
    proxy.deny(2);
    for (let i = 0; i < 2; i++) {
      const t = await tunnel(target);
      expect(t.status).toBe(403);
      t.socket.destroy();
    }
    const t = await tunnel(target);
    expect(t.status).toBe(200);
    expect(await roundTrip(t.socket, 'after the denials')).toBe('after the denials');
    t.socket.destroy();
    expect(proxy.connects.map((c) => c.denied)).toEqual([true, true, false]);
    expect(proxy.connects.every((c) => c.target === target && c.from === '127.0.0.1')).toBe(true);
    // A denied CONNECT never reached the target: only the last one did.
    expect(echoed).toHaveLength(1);
  });

  it('answers a plain request 405: it only tunnels', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${proxy.url}/v1/health`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.end();
    });
    expect(status).toBe(405);
    expect(proxy.connects).toEqual([]);
  });
});
