/** Reading a `zenroll serve`'s `/metrics` the way Prometheus scrapes it. */
import { expect } from 'vitest';

/** The samples of a Prometheus text exposition: `name{a="b",…}` → value, without the `server` label every sample has. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels = (m[2] ?? '')
      .split(',')
      .filter(Boolean)
      .filter((l) => !l.startsWith('server='))
      .sort()
      .join(',');
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

/** GET `url` (it must answer 200): its content type, text and samples. */
export async function scrape(url: string): Promise<{ contentType: string | null; text: string; samples: Map<string, number> }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { contentType: res.headers.get('content-type'), text, samples: samples(text) };
}
