/**
 * The unread part of an upload's body. A refusal is answered before the body
 * is read (SPEC §4); what happens to the bytes still coming decides whether
 * the client can read that answer and reuse its connection.
 */
import type { IncomingMessage } from 'node:http';

export function expectsContinue(req: IncomingMessage): boolean {
  return /^100-continue$/i.test(req.headers.expect ?? '');
}

/**
 * A client waiting for 100 Continue that gets a final answer instead never
 * sends its body: the connection cannot carry another request after it.
 */
export function closeIfNoBody(req: IncomingMessage, continued: boolean): Record<string, string> {
  return expectsContinue(req) && !continued ? { connection: 'close' } : {};
}

/**
 * Read and drop the body bytes not read yet, so that a client still sending
 * can read its answer and reuse the connection; one that stalls is cut.
 * (Answering with `Connection: close` instead makes undici lose the answer
 * to EPIPE over TLS while it is still sending.)
 */
export function drainRest(req: IncomingMessage, idleMs: number): void {
  const socket = req.socket;
  const cut = () => socket.destroy();
  socket.setTimeout(idleMs);
  socket.once('timeout', cut);
  req.once('end', () => {
    socket.setTimeout(0);
    socket.off('timeout', cut);
  });
  req.resume();
}
