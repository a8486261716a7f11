/**
 * Just enough DN handling (RFC 4514) to go from `directory.serviceDN` with
 * its `{server}` placeholder to a search base, and from a DN slapd returns
 * back to the server name.
 */

/** Split a DN into its RDNs at the commas that are not escaped. */
export function splitDn(dn: string): string[] {
  const rdns: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn.charAt(i);
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn.charAt(i + 1);
      i++;
    } else if (c === ',') {
      rdns.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  if (current.trim() !== '' || rdns.length > 0) rdns.push(current.trim());
  return rdns;
}

/** The DN below which every server's object lives: serviceDN without the RDNs holding `{server}`. */
export function baseOfTemplate(template: string): string {
  const rdns = splitDn(template);
  let last = -1;
  rdns.forEach((r, i) => {
    if (r.includes('{server}')) last = i;
  });
  return rdns.slice(last + 1).join(',');
}

/** Undo RFC 4514 escaping: `\,` and `\2C` both give `,` (hex pairs are UTF-8 bytes). */
export function unescapeDnValue(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const c = v.charAt(i);
    if (c === '\\' && /^[0-9a-fA-F]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '\\' && i + 1 < v.length) {
      bytes.push(...Buffer.from(v.charAt(i + 1), 'utf8'));
      i++;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// `cn = X` and `CN=X` are the same RDN: attribute names are case-insensitive.
function normRdn(rdn: string): string {
  const eq = rdn.indexOf('=');
  return eq === -1 ? rdn : `${rdn.slice(0, eq).trim().toLowerCase()}=${rdn.slice(eq + 1).trim()}`;
}

/** The server whose object `dn` is, per the serviceDN template; null when `dn` does not fit it. */
export function serverOfDn(template: string, dn: string): string | null {
  const want = splitDn(template).map(normRdn);
  const got = splitDn(dn).map(normRdn);
  if (want.length !== got.length) return null;
  let server: string | null = null;
  for (const [i, w] of want.entries()) {
    const g = got[i] ?? '';
    const at = w.indexOf('{server}');
    if (at === -1) {
      if (w.toLowerCase() !== g.toLowerCase()) return null;
      continue;
    }
    const pre = w.slice(0, at);
    const post = w.slice(at + '{server}'.length);
    if (g.length < pre.length + post.length + 1) return null;
    if (!g.toLowerCase().startsWith(pre.toLowerCase()) || !g.toLowerCase().endsWith(post.toLowerCase())) return null;
    const name = unescapeDnValue(g.slice(pre.length, g.length - post.length));
    if (server !== null && server !== name) return null;
    server = name;
  }
  return server;
}
