/**
 * LDAP GeneralizedTime (RFC 4517 §3.3.13), the syntax of
 * zeninvDiscardScanDataTime: `YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM])`.
 */
const GT = /^(\d{4})(\d{2})(\d{2})(\d{2})(?:(\d{2})(\d{2})?)?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;

export function parseGeneralizedTime(text: string): Date | null {
  const m = GT.exec(text.trim());
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const n = (v: string | undefined) => Number(v ?? 0);
  if (n(mo) < 1 || n(mo) > 12 || n(d) < 1 || n(d) > 31 || n(h) > 23 || n(mi) > 59 || n(s) > 60) return null;
  // A fraction belongs to the last unit given: hours, minutes or seconds.
  const unitMs = s !== undefined ? 1000 : mi !== undefined ? 60_000 : 3_600_000;
  const fracMs = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * unitMs);
  let ms = Date.UTC(n(y), n(mo) - 1, n(d), n(h), n(mi), n(s)) + fracMs;
  if (new Date(Date.UTC(n(y), n(mo) - 1, n(d))).getUTCDate() !== n(d)) return null;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5) || 0)) * 60_000;
  }
  return new Date(ms);
}

/** `YYYYMMDDHHMMSS[.fff]Z`, the form slapd stores. */
export function formatGeneralizedTime(date: Date): string {
  const iso = date.toISOString(); // 2026-11-22T10:30:05.123Z
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${ms === '000' ? '' : `.${ms}`}Z`;
}
