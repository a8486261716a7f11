/**
 * Checking a PEM certificate file before the config points at it: a file
 * that is not one makes every TLS connection fail later, far from the cause.
 */
import { X509Certificate } from 'node:crypto';
import { messageOf } from './errors.js';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

export type PemCertificates = { ok: true; certificates: X509Certificate[]; pem: string } | { ok: false; problem: string };

/**
 * The certificates in `text` (one, or a chain or bundle), and the PEM of
 * only those: anything else in the file (a private key pasted along) is
 * dropped, not copied.
 */
export function parsePemCertificates(text: string): PemCertificates {
  const certificates: X509Certificate[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] !== 'CERTIFICATE') continue;
    try {
      certificates.push(new X509Certificate(m[0]));
    } catch (cause) {
      return { ok: false, problem: `certificate ${certificates.length + 1} does not parse (${messageOf(cause)})` };
    }
  }
  if (certificates.length === 0) return { ok: false, problem: 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)' };
  return { ok: true, certificates, pem: certificates.map((c) => c.toString()).join('') };
}
