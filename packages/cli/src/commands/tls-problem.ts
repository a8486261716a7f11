/**
 * What to tell an operator when the parent's certificate does not pass
 * (`zenroll doctor`): the parent did answer, so "does not answer, check the
 * firewall" would send them the wrong way. Node gives OpenSSL's verify
 * result as the error's code.
 */
import { fieldOf } from '@zenroll/core';
import { OUT_OF_DATE_CERT_CODES, UNTRUSTED_CERT_CODES } from '@zenroll/sender';

// OpenSSL's words for its verify results, so that the message is the same
// whatever Node adds to its own (Node 24 appends a hint about --use-system-ca).
const OPENSSL_WORDS: Record<string, string> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REJECTED: 'certificate rejected',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
};

/** The TLS problem in `err` with what to fix, or null when `err` is not about the parent's certificate. */
export function parentTlsProblem(err: unknown, ca: string | null): string | null {
  const e = fieldOf(err, 'cause') ?? err;
  const code = fieldOf(e, 'code');
  if (typeof code !== 'string') return null;
  const message = fieldOf(e, 'message');
  const why = `${OPENSSL_WORDS[code] ?? (typeof message === 'string' ? message : code)} (${code})`;
  if (UNTRUSTED_CERT_CODES.has(code)) {
    const given = ca === null ? 'sender.tls.ca is not set and no system CA signed it' : `it is not signed by sender.tls.ca (${ca})`;
    return `TLS: the parent's certificate is not trusted: ${why}: ${given}; set sender.tls.ca to the CA certificate that signed the parent's`;
  }
  if (OUT_OF_DATE_CERT_CODES.has(code)) {
    return `TLS: the parent's certificate is outside its validity period: ${why}; renew it on the parent, or check this server's clock`;
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS: the parent's certificate is not for the host in sender.parent: ${why}; use a name the certificate holds, or give the parent a certificate for this one`;
  }
  return null;
}
