// The benchmark's table (stdout) and its verdict against the targets of
// issue 8, both computed from the same results object that goes to JSON.
const f1 = (x) => (x === null || x === undefined ? '–' : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined ? '–' : x.toFixed(2));
const sec = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const ratio = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(2)}×`);

/** Each target of issue 8 that the results allow to judge: { name, value, target, met }. */
export function verdicts(r) {
  const out = [];
  const add = (name, value, target, met) => out.push({ name, value, target, met });
  if (r.pack) {
    const zipSeq = r.pack.sequential.zip6.mbPerS;
    const best = Math.max(r.pack.sequential.zenroll.mbPerS, r.pack.parallel2.zenroll.mbPerS);
    add('packing vs sequential zip -6', ratio(best / zipSeq), '≥ 2.00×', best / zipSeq >= 2);
  }
  if (r.verify) {
    for (const mode of ['sequential', 'parallel2']) {
      const v = r.verify[mode];
      add(`verification ${mode} vs unzip -tq (outer + inner)`, ratio(v.speedRatio), '≥ 1.00×', v.speedRatio >= 1);
    }
  }
  if (r.endToEnd?.ratioToZip6Sequential) {
    add('end to end vs sequential zip -6', ratio(r.endToEnd.ratioToZip6Sequential), '≤ 0.80×', r.endToEnd.ratioToZip6Sequential <= 0.8);
  }
  if (r.memory) {
    const peak = r.memory.peak;
    for (const [phase, peaks] of Object.entries(peak)) {
      const max = Math.max(...Object.values(peaks));
      add(`peak RSS, ${phase}`, `${f1(max)} MB`, '≤ 150 MB', max <= 150);
    }
    const backlog = Object.keys(peak).find((k) => k.startsWith('backlog'));
    if (backlog && peak.endToEnd) {
      const worst = Math.max(...Object.keys(peak.endToEnd).map((n) => Math.abs(peak[backlog][n] / peak.endToEnd[n] - 1)));
      add(
        `peak RSS, ${backlog} vs end to end (worst process)`,
        `${worst >= 0 ? '±' : ''}${(worst * 100).toFixed(0)} %`,
        '≤ ±15 %',
        worst <= 0.15,
      );
    }
  }
  if (r.load) add(`load errors (${r.load.senders} senders)`, String(r.load.errors), '0', r.load.errors === 0);
  return out;
}

export function table(r) {
  const rows = [];
  const row = (figure, zenroll, reference = '', rat = '') => rows.push([figure, zenroll, reference, rat]);
  if (r.pack) {
    const p = r.pack;
    row(
      `1 packing ${p.batches} zips of ≤50, sequential`,
      `${f1(p.sequential.zenroll.mbPerS)} MB/s (${sec(p.sequential.zenroll.medianMs)})`,
      `zip -q -6: ${f1(p.sequential.zip6.mbPerS)} MB/s (${sec(p.sequential.zip6.medianMs)})`,
      ratio(p.sequential.speedRatio),
    );
    row(
      '1 packing, 2 in parallel',
      `${f1(p.parallel2.zenroll.mbPerS)} MB/s (${sec(p.parallel2.zenroll.medianMs)})`,
      `zip -q -6 ×2: ${f1(p.parallel2.zip6.mbPerS)} MB/s (${sec(p.parallel2.zip6.medianMs)})`,
      ratio(p.parallel2.speedRatio),
    );
    row(
      '1 packing, compression (in/out)',
      `${f2(p.outputBytes.compression.zenroll)} (${f1(p.outputBytes.zenroll / 1e6)} MB)`,
      `${f2(p.outputBytes.compression.zip6)} (${f1(p.outputBytes.zip6 / 1e6)} MB)`,
      '',
    );
    const ps = p.sequential.zenroll;
    row(
      '1 packer CPU (main thread), peak RSS',
      `${sec(ps.cpuMs)} (${sec(ps.mainThreadCpuMs)}), ${f1(ps.peakRssMB)} MB`,
      'sequential run',
      '',
    );
  }
  if (r.verify) {
    for (const [mode, label] of [
      ['sequential', 'sequential'],
      ['parallel2', '2 in parallel'],
    ]) {
      const v = r.verify[mode];
      row(
        `2 verification, ${label}`,
        `${f1(v.zenroll.mbPerS)} MB/s (${sec(v.zenroll.medianMs)})`,
        `unzip -tq outer+inner: ${f1(v.unzipOuterAndInner.mbPerS)} MB/s (${sec(v.unzipOuterAndInner.medianMs)})`,
        ratio(v.speedRatio),
      );
      row(
        mode === 'sequential' ? '2   verifier CPU (main thread)' : '',
        mode === 'sequential' ? `${sec(v.zenroll.cpuMs)} (${sec(v.zenroll.mainThreadCpuMs)})` : '',
        `unzip -tq outer only: ${f1(v.unzipOuterOnly.mbPerS)} MB/s (${sec(v.unzipOuterOnly.medianMs)})`,
        ratio(v.speedRatioOuterOnly),
      );
    }
  }
  if (r.endToEnd) {
    const e = r.endToEnd;
    row(
      `3 end to end LEAF1→INT1→ROOT, ${e.zips} zips`,
      `${sec(e.medianMs)} (${f1(e.mbPerS)} MB/s)`,
      `zip -q -6 sequential: ${sec(r.pack?.sequential.zip6.medianMs)}`,
      ratio(e.ratioToZip6Sequential),
    );
    row(
      '3   leaf roll-up / log all in slapd',
      `${sec(e.leafRollupMs)} / ${sec(e.logDrainedMs)}`,
      `INT1 rolled up ${e.int1Rollups}× (on arrival)`,
      '',
    );
    const ph = e.leafPhasesMs;
    row(
      '3   leaf: collect / pack / push',
      `${sec(ph.collectMs)} / ${sec(ph.packMs)} / ${sec(ph.pushMs)} (overlapped)`,
      `push ends ${sec(ph.pushAfterPackMs)} after pack; then ${sec(ph.tailMs)} to ROOT's dbdir`,
      '',
    );
    const s1 = (ms) => (ms === undefined ? '–' : (ms / 1000).toFixed(1));
    row(
      '3   CPU s per process (main thread)',
      Object.entries(e.cpuMs)
        .map(([n, ms]) => `${n} ${s1(ms)} (${s1(e.mainThreadCpuMs?.[n])})`)
        .join(', '),
      '',
      '',
    );
  }
  if (r.memory) {
    row(
      '4 RSS just after start (idle)',
      `${Object.entries(r.memory.idleAfterStart)
        .map(([n, v]) => `${n} ${f1(v)}`)
        .join(', ')} MB`,
      '',
      '',
    );
    for (const [phase, peaks] of Object.entries(r.memory.peak)) {
      const runInfo = r.memory.backlogRuns[phase];
      const label = phase === 'endToEnd' ? '4 peak RSS, end to end' : `4 peak RSS, backlog ${phase.slice(7)} small .str`;
      row(
        label,
        `${Object.entries(peaks)
          .map(([n, v]) => `${n} ${f1(v)}`)
          .join(', ')} MB`,
        runInfo ? `${runInfo.zips} zips in ${sec(runInfo.ms)}` : '',
        '',
      );
      const ph = runInfo?.leafPhasesMs;
      if (ph)
        row(
          '4   leaf: collect / pack / push',
          `${sec(ph.collectMs)} / ${sec(ph.packMs)} / ${sec(ph.pushMs)} (overlapped)`,
          `push ends ${sec(ph.pushAfterPackMs)} after pack; then ${sec(ph.tailMs)} to ROOT's dbdir`,
          '',
        );
    }
  }
  if (r.load) {
    const l = r.load;
    row(
      `5 load: ${l.senders} senders × ${l.zipsPerSender} zips`,
      `${l.errors} errors, ${l.busy503} × 503 retried`,
      `${l.stored}/${l.uploads} stored (${(l.zipBytesAvg / 1e3).toFixed(0)} kB each)`,
      '',
    );
    row(
      '5   throughput',
      `${f1(l.zipsPerS)} zips/s, ${f1(l.mbPerS)} MB/s`,
      `all stored ${sec(l.ms)}, promoted ${sec(l.allPromotedMs)}`,
      '',
    );
    row(
      '5   latency p50 / p99',
      `attempt ${l.attemptP50Ms} / ${l.attemptP99Ms} ms`,
      `with 503 waits ${l.totalP50Ms} / ${l.totalP99Ms} ms`,
      '',
    );
    row('5   ROOT peak RSS', `${f1(l.rootPeakRssMB)} MB`, '', '');
  }
  if (r.directory) {
    const d = r.directory;
    row(
      `6 directory, ${d.records} records (keep ${d.keep})`,
      `${d.oneAtATime.recordsPerS}/s one at a time into slapd`,
      `journal alone ${d.journalAlone.recordsPerS}/s`,
      '',
    );
    row('6   burst', `${d.burst.recordsPerS}/s (${d.records} written at once)`, '', '');
  }
  if (r.tree) {
    const t = r.tree;
    row(
      `7 zenroll tree, ${t.servers} servers`,
      `${t.cliMs} ms (zenroll tree --json, a new process)`,
      `one subtree search ${t.searchMs} ms, drawn in ${t.drawMs} ms`,
      '',
    );
  }
  if (r.poll) {
    const p = r.poll;
    row(
      `8 poll: ${p.children} children, each a new TLS connection`,
      `ROOT ${p.rootCpuMsPerPoll} CPU ms per poll`,
      `${p.pollsPerS} polls/s for ${p.seconds} s: ROOT at ${p.rootCpuPercentAtThatRate} % CPU`,
      '',
    );
    row('8   at sender.pollSeconds 60', `${p.rootCpuPercentAt60s} % of a core (${(p.children / 60).toFixed(1)} polls/s)`, '', '');
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((x) => x[i].length), ['figure', 'zenroll', 'reference', 'ratio'][i].length));
  const line = (x) =>
    x
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(['figure', 'zenroll', 'reference', 'ratio']), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  const v = verdicts(r);
  if (v.length > 0) {
    out.push('', 'targets (issue 8):');
    const w = Math.max(...v.map((x) => x.name.length));
    for (const x of v) out.push(`  ${x.met ? 'met   ' : 'MISSED'}  ${x.name.padEnd(w)}  ${x.value.padStart(9)}  (target ${x.target})`);
  }
  return out.join('\n');
}
