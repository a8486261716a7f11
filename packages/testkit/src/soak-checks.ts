/**
 * What every round of the crash soak must leave (crash-soak.ts drives the
 * rounds): in ROOT's and INT1's dbdir each .str the leaf was given exactly
 * once (SHA-256 of the data in the verified zips), no temporary or stray
 * file in any server's folders, and on LEAF1's object each zip's way up
 * once: one `sent` from LEAF1 (which replaced its `zipped`) and one from INT1.
 */
import type { KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TrustStore, isTempName, parseRecord, verifyOuterZip } from '@zenroll/core';
import { sleep, type Slapd } from '@zenroll/directory/slapd';
import { SERVERS, filesUnder, outerZips, type SoakNodes, type SoakServer } from './soak-tree.js';

/** The figures the checks add to (the soak's SoakFigures holds them). */
export interface CheckFigures {
  strsChecked: number;
  zipsVerified: number;
  recordsChecked: number;
  lost: number;
  doubled: number;
  leftovers: number;
}

export interface SoakChecksOptions {
  tree: SoakNodes;
  slapd: Slapd;
  /** LEAF1's public key: every zip of the tree is signed by it. */
  leafKey: KeyObject;
  /** sha256 → count the leaf was given, so far. */
  expected: ReadonlyMap<string, number>;
  figures: CheckFigures;
}

export class SoakChecks {
  readonly #o: SoakChecksOptions;
  /** Zip file identity → the .str digests it was verified to hold. */
  readonly #verified = new Map<string, string[]>();
  /** ROOT's zips checked in earlier rounds. */
  readonly #atRoot = new Set<string>();

  constructor(o: SoakChecksOptions) {
    this.#o = o;
  }

  /** Every problem found, as lines; none when the round left the tree as it must. */
  async check(): Promise<string[]> {
    return [...(await this.#lostOrDoubled()), ...(await this.#leftovers()), ...(await this.#records())];
  }

  async #lostOrDoubled(): Promise<string[]> {
    const { tree, expected, figures } = this.#o;
    const problems: string[] = [];
    for (const server of ['ROOT', 'INT1'] as const) {
      const found = await this.#strsInZips(tree[server].config.dirs.dbdir);
      let lost = 0;
      let doubled = 0;
      for (const [h, n] of expected) {
        const got = found.get(h) ?? 0;
        if (got < n) lost += n - got;
        if (got > n) doubled += got - n;
      }
      for (const [h, n] of found) if (!expected.has(h)) doubled += n;
      if (server === 'ROOT') {
        figures.lost += lost;
        figures.doubled += doubled;
      }
      figures.strsChecked += [...found.values()].reduce((a, b) => a + b, 0);
      if (lost + doubled > 0) problems.push(`${server} dbdir: ${lost} lost, ${doubled} doubled`);
    }
    return problems;
  }

  /** Which .str a folder of outer zips holds (verified, SHA-256 of the data), by digest → count. */
  async #strsInZips(dir: string | null): Promise<Map<string, number>> {
    const trust = new TrustStore();
    trust.add(this.#o.leafKey, 'LEAF1', 'LEAF1');
    const found = new Map<string, number>();
    if (dir === null) return found;
    for (const name of await outerZips(dir)) {
      const path = join(dir, name);
      // A zip verified in an earlier round and untouched since (same inode, size and mtime) is not read again.
      const st = await stat(path);
      const key = `${path}|${st.ino}|${st.size}|${st.mtimeMs}`;
      let digests = this.#verified.get(key);
      if (digests === undefined) {
        digests = (await verifyOuterZip(path, { trust: trust.lookup })).files.map((f) => f.sha256);
        this.#verified.set(key, digests);
        this.#o.figures.zipsVerified += 1;
      }
      for (const h of digests) found.set(h, (found.get(h) ?? 0) + 1);
    }
    return found;
  }

  /** Temp files anywhere, rejected or quarantined zips: what a crash must not leave behind. */
  async #leftovers(): Promise<string[]> {
    const { tree } = this.#o;
    const strays: string[] = [];
    for (const s of SERVERS) {
      for (const f of await filesUnder(tree[s].dir)) {
        const name = basename(f);
        if (isTempName(name) || f.includes(`${join('entpushdir', 'rejected')}/`) || f.includes('/quarantine/')) strays.push(f);
      }
    }
    for (const f of await filesUnder(tree.LEAF1.config.dirs.entmergedir)) if (isTempName(basename(f))) strays.push(f);
    if (strays.length > 0) {
      // Two snapshots, 2 s apart: a temp name is unique per write, so one still present in the second was never
      // renamed (left behind), while one a running server was writing at the first look has been renamed by then.
      await sleep(2000);
      const still = await Promise.all(strays.map(async (f) => ((await stat(f).catch(() => null)) === null ? null : f)));
      strays.splice(0, strays.length, ...still.filter((f) => f !== null));
    }
    this.#o.figures.leftovers += strays.length;
    if (strays.length === 0) return [];
    return [`left behind: ${strays.slice(0, 5).join(', ')}${strays.length > 5 ? ` and ${strays.length - 5} more` : ''}`];
  }

  /** LEAF1's object: per zip at ROOT, one `sent` from LEAF1 (no `zipped` left) and one from INT1. Waits for the journals to drain. */
  async #records(): Promise<string[]> {
    // This round's zips only: the object keeps the newest directory.keep records, and older rounds were checked.
    const root = (await outerZips(this.#o.tree.ROOT.config.dirs.dbdir)).filter((n) => !this.#atRoot.has(n));
    const times = root.map((n) => n.slice(0, 17));
    let last: string[] = [];
    for (const until = Date.now() + 30_000; ; await sleep(200)) {
      const records = await this.#recordsOn('LEAF1');
      last = [];
      let doubled = false;
      for (const t of times) {
        const mine = records.filter((r) => r.zip.startsWith(`${t}_`));
        const fromLeaf = mine.filter((r) => r.event === 'sent' && r.from === 'LEAF1').length;
        const fromInt = mine.filter((r) => r.event === 'sent' && r.from === 'INT1').length;
        const zipped = mine.filter((r) => r.event === 'zipped').length;
        if (fromLeaf > 1 || fromInt > 1) doubled = true;
        if (fromLeaf !== 1 || fromInt !== 1 || zipped !== 0)
          last.push(`${t}: ${fromLeaf} sent by LEAF1, ${fromInt} by INT1, ${zipped} zipped`);
      }
      if (last.length === 0) {
        this.#o.figures.recordsChecked += 2 * times.length;
        for (const n of root) this.#atRoot.add(n);
        return [];
      }
      // Missing ones may still be on their way from a journal; a record twice never goes away.
      if (doubled || Date.now() > until) break;
    }
    return [`directory records: ${last.slice(0, 3).join('; ')}${last.length > 3 ? ` (${last.length} zips)` : ''}`];
  }

  async #recordsOn(server: SoakServer): Promise<ReturnType<typeof parseRecord>[]> {
    return (await this.#o.slapd.rollUpLog(server)).map((v) => parseRecord(v));
  }
}
