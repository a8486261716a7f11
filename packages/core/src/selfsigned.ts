/**
 * A self-signed TLS certificate for a Receiver, made with the `openssl`
 * command (Node has no API to make X.509 certificates). `zenroll init` uses it
 * so that a new Receiver speaks HTTPS from the start; operators with their own
 * PKI replace the two files.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { chmod, mkdir } from 'node:fs/promises';
import { ZenrollError, errnoCode, messageOf } from './errors.js';
import { fsyncDir } from './durable.js';

const run = promisify(execFile);

export interface CertRequest {
  certPath: string;
  keyPath: string;
  /** Host names and IP addresses the certificate is valid for. */
  hosts: string[];
  commonName: string;
  days?: number;
  /** Sign with this CA instead of self-signing (for mutual-TLS client certificates and tests). */
  ca?: { certPath: string; keyPath: string };
  /** Make a CA certificate (basicConstraints CA:true). */
  isCa?: boolean;
}

export async function makeCertificate(req: CertRequest): Promise<void> {
  await mkdir(dirname(req.certPath), { recursive: true });
  await mkdir(dirname(req.keyPath), { recursive: true });
  const san = req.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const ext = req.isCa
    ? ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']
    : [
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth,clientAuth',
        ...(san ? ['-addext', `subjectAltName=${san}`] : []),
      ];
  const common = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    req.keyPath,
    '-subj',
    `/CN=${req.commonName}`,
  ];
  const days = String(req.days ?? 3650);
  try {
    if (req.ca === undefined) {
      await run('openssl', ['req', '-x509', ...common, '-days', days, '-out', req.certPath, ...ext]);
    } else {
      await run('openssl', [
        'req',
        '-x509',
        ...common,
        '-days',
        days,
        '-out',
        req.certPath,
        ...ext,
        '-CA',
        req.ca.certPath,
        '-CAkey',
        req.ca.keyPath,
      ]);
    }
  } catch (cause) {
    const missing = errnoCode(cause) === 'ENOENT';
    throw new ZenrollError(
      'FS_FAILED',
      missing
        ? 'the openssl command is needed to make a TLS certificate (apt-get install openssl), or give receiver.tls your own files'
        : `openssl could not make the certificate ${req.certPath}: ${messageOf(cause)}`,
      { cause },
    );
  }
  await chmod(req.keyPath, 0o600);
  await fsyncDir(dirname(req.certPath));
}
