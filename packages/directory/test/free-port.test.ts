import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { ephemeralPorts, freePort } from '../src/slapd/proc.js';

const listen = (port: number) =>
  new Promise<() => Promise<void>>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject).listen(port, '127.0.0.1', () => resolve(() => new Promise((r) => srv.close(() => r()))));
  });

describe('freePort', () => {
  it("reads Linux's ephemeral range", () => {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    expect(ephemeralPorts()).toEqual({ low, high });
  });

  it('gives ports outside the range the kernel hands out to port 0 and connect(), which can then be listened on', async () => {
    const { low, high } = ephemeralPorts();
    // Where the kernel leaves none outside its range, the test says so rather than pass without looking.
    expect(low > 10_000 || high < 65_535).toBe(true);
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port < low || port > high, `${port} is in ${low}-${high}`).toBe(true);
      expect(port).toBeGreaterThanOrEqual(10_000);
      const close = await listen(port);
      await close();
      ports.add(port);
    }
    // Picked at random, not the same one each time.
    expect(ports.size).toBeGreaterThan(15);
  });

  it('passes over a port that is taken', async () => {
    const { low, high } = ephemeralPorts();
    const below = Math.max(0, low - 10_000);
    const span = below + Math.max(0, 65_535 - high);
    const held = await freePort();
    const close = await listen(held);
    // The first random pick lands on the held port, the next ones anywhere.
    const at = (held < low ? held - 10_000 : below + held - high - 1) + 0.5;
    const random = vi.spyOn(Math, 'random').mockReturnValueOnce(at / span);
    try {
      const port = await freePort();
      expect(random.mock.calls.length).toBeGreaterThanOrEqual(2);
      expect(port).not.toBe(held);
      await (await listen(port))();
    } finally {
      random.mockRestore();
      await close();
    }
  });
});
