// The second half of a scan: operating system, patches, software, services,
// and the file-level scan that fills the file to its size. A section that
// reaches the size limit ends the content (returns false); the generator then
// writes the trailer. As in hardware.ts, the order of lines and draws is the
// file format.
import type { Scan } from './hardware.js';
import { at, fmtDate, fmtDateTime } from './rng.js';
import { FILE_SUBDIRS, GENERIC_FILES, PATCHES, SOFTWARE, SYS_DIRS, SYS_FILES } from './vocabulary.js';

/** A product installed on the workstation, as its later sections quote it. */
interface Installed {
  vendor: string;
  product: string;
  version: string;
  path: string;
  files: readonly string[];
  date: number;
}

/** Writes the sections after the hardware, until the file is full. */
export function writeSoftwareSections(scan: Scan): void {
  if (!writeSystem(scan)) return;
  const installed = writeSoftware(scan);
  if (installed === undefined || !writeServices(scan, installed)) return;
  writeFiles(scan, installed);
}

/** The operating system and its patches; false when the file is full. */
function writeSystem(scan: Scan): boolean {
  const { r, os, ws, scanMs, installBase, size } = scan;
  const L = (s: string): boolean => scan.out.line(s);
  const osInstall = installBase;
  L('[OperatingSystem]');
  L(`Name=${os.name}`);
  L(`Version=${os.ver}`);
  L(`ServicePack=${os.sp}`);
  L(`Build=${os.build}`);
  L(`Architecture=${os.name.includes('XP') ? 'x86' : 'x64'}`);
  L(`Language=${r.pick(['en-US', 'de-DE', 'fr-FR', 'ja-JP', 'es-ES', 'pl-PL'])}`);
  L(`InstallDate=${fmtDateTime(osInstall)}`);
  L(`LastBootTime=${fmtDateTime(scanMs - r.int(600, 14 * 86400) * 1000)}`);
  L(`SystemRoot=${os.root}`);
  L(`ProductID=${r.digits(5)}-${r.digits(3)}-${r.digits(7)}-${r.digits(5)}`);
  L(`RegisteredOrganization=ACME Corp.`);
  L(`ComputerName=${ws}`);
  L(`Domain=ACME`);
  L('');

  // Patches: installed in monthly rounds, oldest first; bigger scans come from
  // machines with more history.
  const nPatches = Math.min(80, 4 + Math.floor(size / 6000) + r.int(0, 4));
  const patchDays: number[] = [];
  for (let p = 0; p < nPatches; p++) patchDays.push(r.int(0, Math.floor((scanMs - osInstall) / 86400000 / 30)));
  patchDays.sort((a, b) => a - b);
  L('[Patches]');
  L('Patch.Format=HotFixID|Description|InstalledOn|InstalledBy');
  for (let p = 1; p <= nPatches; p++) {
    const day = at(patchDays, p - 1);
    const round = osInstall + day * 30 * 86400000;
    if (!L(`Patch.${p}=KB${4000000 + day * 3000 + r.int(0, 2999)}|${r.pick(PATCHES)}|${fmtDate(round)}|NT AUTHORITY\\SYSTEM`)) return false;
  }
  L('');
  return true;
}

/** The installed products; undefined when the file is full. */
function writeSoftware(scan: Scan): Installed[] | undefined {
  const { r, os, size, sinceInstall } = scan;
  const L = (s: string): boolean => scan.out.line(s);
  const nSw = Math.min(SOFTWARE.length, 6 + Math.floor(size / 6000) + r.int(0, 4));
  // Choose nSw distinct products (partial Fisher-Yates over indices).
  const idx = SOFTWARE.map((_, i) => i);
  for (let i = 0; i < nSw; i++) {
    const j = i + Math.floor(r.f() * (idx.length - i));
    const t = at(idx, i);
    idx[i] = at(idx, j);
    idx[j] = t;
  }
  const installed: Installed[] = [];
  L('[Software]');
  L('Software.Format=Product|Vendor|Version|InstallPath|InstallDate|SizeKB|ProductCode|Source');
  for (let i = 0; i < nSw; i++) {
    const [vendor, product, versions, dir, files] = at(SOFTWARE, at(idx, i));
    const version = r.pick(versions);
    const path = dir.startsWith('..\\') ? `C:\\${dir.slice(3)}` : `${os.pf}${r.chance(0.3) ? ' (x86)' : ''}\\${dir}`;
    const date = sinceInstall();
    installed.push({ vendor, product, version, path, files, date });
    const source = r.pick(['MSI', 'MSI', 'ARP', 'ZENworks Bundle', 'Registry']);
    if (
      !L(
        `Software.${i + 1}=${product}|${vendor}|${version}|${path}|${fmtDate(date)}|${r.int(800, 2500000)}|${source === 'MSI' ? r.guid() : ''}|${source}`,
      )
    )
      return undefined;
  }
  L('');
  return installed;
}

/** Services and startup entries of some of the products; false when the file is full. */
function writeServices(scan: Scan, installed: readonly Installed[]): boolean {
  const { r } = scan;
  const L = (s: string): boolean => scan.out.line(s);
  L('[Services]');
  L('Service.Format=Name|DisplayName|StartMode|State|Path');
  let sv = 0;
  for (const sw of installed) {
    if (!r.chance(0.35)) continue;
    const exe = sw.files.find((f) => f.toLowerCase().endsWith('.exe')) ?? at(sw.files, 0);
    if (
      !L(
        `Service.${++sv}=${exe.replace(/^.*\\/, '').replace(/\.exe$/i, '')}Svc|${sw.product} Service|${r.pick(['Auto', 'Auto', 'Manual', 'Disabled'])}|${r.pick(['Running', 'Running', 'Stopped'])}|${sw.path}\\${exe}`,
      )
    )
      return false;
  }
  L('');
  return true;
}

/**
 * The file-level software scan: fills the rest of the file. The scanner walks
 * folders, so files come in runs of one product's folder, sharing its install
 * time, version and vendor.
 */
function writeFiles(scan: Scan, installed: readonly Installed[]): void {
  const { r, os, sinceInstall } = scan;
  const L = (s: string): boolean => scan.out.line(s);
  L('[Files]');
  L('File.Format=Path|SizeBytes|Modified|FileVersion|Product|Vendor|CRC32');
  let fn = 0;
  for (;;) {
    if (r.chance(0.7)) {
      const sw = r.pick(installed);
      const sub = r.chance(0.4) ? r.pick(FILE_SUBDIRS) : '';
      const run = r.int(3, 14);
      const t0 = sw.date + r.int(0, 3) * 60000;
      for (let k = 0; k < run; k++) {
        const f = k < sw.files.length ? at(sw.files, k) : r.pick(GENERIC_FILES);
        const t = fmtDateTime(t0 + r.int(0, 59) * 1000);
        if (!L(`File.${++fn}=${sw.path}${sub}\\${f}|${r.int(2048, 9000000)}|${t}|${sw.version}|${sw.product}|${sw.vendor}|${r.HEX(8)}`))
          return;
      }
    } else {
      const d = r.pick(SYS_DIRS);
      const run = r.int(3, 14);
      const t = fmtDateTime(sinceInstall());
      const build = `${os.ver}.${r.int(1, 5000)}`;
      const fi = Math.floor(r.f() * SYS_FILES.length);
      for (let k = 0; k < run; k++) {
        const f = at(SYS_FILES, (fi + k) % SYS_FILES.length);
        if (
          !L(
            `File.${++fn}=${os.root}\\${d}\\${f}|${r.int(4096, 8000000)}|${t}|${build}|Microsoft(R) Windows(R) Operating System|Microsoft Corporation|${r.HEX(8)}`,
          )
        )
          return;
      }
    }
  }
}
