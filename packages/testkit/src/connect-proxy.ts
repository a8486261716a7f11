/**
 * An HTTP proxy that only tunnels (CONNECT), as a firewall between two
 * levels would offer, and can deny a tunnel. It forwards raw bytes, so TLS
 * stays end to end.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { portOf } from './net.js';

export interface Tunnel {
  /** The `host:port` asked for. */
  target: string;
  /** The address the CONNECT came from. */
  from: string;
  /** Answered 403 instead of tunnelling. */
  denied: boolean;
}

export interface ConnectProxy {
  url: string;
  /** Every CONNECT, in order. */
  readonly connects: Tunnel[];
  /** Deny the next `n` CONNECTs with 403. */
  deny(n: number): void;
  close(): Promise<void>;
}

export async function startConnectProxy(): Promise<ConnectProxy> {
  const connects: Tunnel[] = [];
  const sockets = new Set<Socket>();
  let denials = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server: Server = createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('this proxy only tunnels (CONNECT)\n');
  });
  server.on('connection', track);
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const denied = denials > 0;
    connects.push({ target, from: client.remoteAddress ?? '', denied });
    if (denied) {
      denials -= 1;
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const at = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(at + 1)), target.slice(0, at), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${portOf(server)}`,
    connects,
    deny: (n) => {
      denials += n;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
