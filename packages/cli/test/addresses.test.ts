/**
 * Addresses for clusters (SPEC §9): `receiver.listen` as a list of listeners,
 * each with or without TLS (the 7099 TLS / 2099 plain pair), served by one
 * real `zenroll serve`; and `sender.localAddress`, which binds the Sender's
 * outgoing connections — the Receiver logs each upload's remote address.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo, run } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { writeScans } from '@zenroll/testkit';
import { tempDir, type ServerFolder } from './helpers/server-dir.js';
import { Services, initHere, section } from './helpers/service.js';
import { initArgs } from '@zenroll/testkit';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let root: ServerFolder;
const services = new Services();

beforeAll(async () => {
  tmp = await tempDir('zenroll-addresses-');
  root = await initHere(join(tmp.path, 'root'), initArgs({ role: 'root', server: 'ROOT', listen: '127.0.0.1:0' }));
  await root.edit((json) => {
    Object.assign(section(json, 'receiver'), {
      listen: [{ address: '127.0.0.1:0' }, { address: '127.0.0.1:0', tls: false }],
      minFreeBytes: 0,
    });
  });
});

afterAll(async () => {
  await services.stopAll();
  await tmp?.remove();
});

function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, ca ? { ca } : {}, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject).end();
  });
}

describe('listeners and local addresses (SPEC §9)', () => {
  it('serves one Receiver on a TLS and a plain listener; a Sender bound to 127.0.0.3 uploads from there', async () => {
    const serve = services.start(root.configPath);
    const listening = await serve.waitFor((l) => l.msg === 'receiver listening');
    const urls = listening.urls as string[];
    expect(urls).toEqual([expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    const [tlsUrl, plainUrl] = urls as [string, string];
    const ca = await readFile(root.config.receiver.tls === false ? '' : root.config.receiver.tls.cert);
    expect(JSON.parse((await get(`${tlsUrl}/v1/info`, ca)).body)).toMatchObject({ server: 'ROOT' });
    expect(JSON.parse((await get(`${plainUrl}/v1/info`)).body)).toMatchObject({ server: 'ROOT' });
    // Each speaks only its own: plain HTTP to the TLS port gets no answer of zenroll's.
    await expect(get(`${tlsUrl.replace('https:', 'http:')}/v1/info`)).rejects.toThrow(/socket hang up/);

    const leaf = await initHere(join(tmp.path, 'leaf'), initArgs({ role: 'leaf', server: 'LEAF1', parent: { url: plainUrl, dir: null } }));
    await leaf.edit((json) => {
      Object.assign(section(json, 'sender'), { localAddress: '127.0.0.3', stableMs: 0 });
    });
    const io = captureIo();
    expect(await run(['trust', 'add', '--name', 'LEAF1', leaf.config.keys.public, '-c', root.configPath], io)).toBe(0);
    await writeScans(leaf.config.dirs.entmergedir as string, 3);
    const r = await runCli(['rollup', '-c', leaf.configPath]);
    expect(r.code).toBe(0);
    const upload = await serve.waitFor((l) => l.msg === 'upload');
    expect(upload).toMatchObject({ outcome: 'stored', remote: '127.0.0.3' });
  }, 60_000);

  it('refuses a TLS listener when receiver.tls is false, naming the key', async () => {
    const bad = await initHere(join(tmp.path, 'bad'), initArgs({ role: 'root', server: 'ROOT', noTls: true })).catch((e: unknown) => e);
    expect(bad).not.toBeInstanceOf(Error);
    const folder = bad as ServerFolder;
    const { writeFile } = await import('node:fs/promises');
    const json = JSON.parse(await readFile(folder.configPath, 'utf8')) as { receiver: Record<string, unknown> };
    json.receiver.listen = ['127.0.0.1:0', { address: '127.0.0.1:0', tls: true }];
    await writeFile(folder.configPath, JSON.stringify(json));
    const r = await runCli(['status', '--check', '-c', folder.configPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/receiver\.listen\.1\.tls: expected false: receiver\.tls is false/);
  });
});
