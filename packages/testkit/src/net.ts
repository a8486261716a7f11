import type { Server } from 'node:net';

/** The port a server listening on a host and port got (a pipe or a closed server has none). */
export function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server does not listen on a TCP port');
  return address.port;
}
