// Deterministic generator of realistic ZENworks-like inventory scan files (.str).
//
//   generateStr(seed, index, opts?) -> { name, data }   pure, no I/O, no Math.random
//   writeFixtures({ out, count, seed, minBytes, maxBytes, mtimeStepMs, ... }) -> Promise<summary>
//
// Every byte of a file is a function of (seed, index, minBytes, maxBytes) only.
// The content is CRLF text, the way a Windows inventory scanner dumps one
// workstation: a header, hardware (BIOS, processor, memory, disks, NICs),
// operating system, installed software, and a file-level software scan that
// fills the file up to its size. The mix of repeated vocabulary and random
// digits/hex is tuned so that deflate level 6 compresses it about 5x.

import { deflateRawSync } from 'node:zlib';
import { mkdir } from 'node:fs/promises';
import { writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_MIN_BYTES = 20480;
export const DEFAULT_MAX_BYTES = 204800;
/** mtime of the file with index 0 in writeFixtures (2026-01-01T00:00:00Z). */
export const DEFAULT_BASE_MTIME_MS = Date.UTC(2026, 0, 1, 0, 0, 0, 0);

// ---------------------------------------------------------------------------
// PRNG: fmix32-mixed seed -> mulberry32.

function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function seedOf(seed, index, salt) {
  const s = Number(seed);
  const i = Number(index);
  if (!Number.isFinite(s) || !Number.isInteger(s)) throw new TypeError(`seed must be an integer, got ${seed}`);
  if (!Number.isInteger(i) || i < 0) throw new TypeError(`index must be a non-negative integer, got ${index}`);
  const sLo = s >>> 0;
  const sHi = Math.floor(s / 4294967296) >>> 0;
  const iLo = i >>> 0;
  const iHi = Math.floor(i / 4294967296) >>> 0;
  let h = fmix32(sLo ^ 0x9e3779b9);
  h = fmix32(h ^ sHi ^ 0x7f4a7c15);
  h = fmix32(h ^ iLo ^ 0x85ebca77);
  h = fmix32(h ^ iHi ^ salt);
  return h;
}

/** mulberry32: returns a generator of uint32 values. */
function mulberry32(a) {
  return function next() {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const HEX_LO = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UP = HEX_LO.map((h) => h.toUpperCase());

class Rng {
  constructor(seed32) {
    this.u32 = mulberry32(seed32);
  }
  /** float in [0, 1) */
  f() {
    return this.u32() / 4294967296;
  }
  /** integer in [lo, hi] */
  int(lo, hi) {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }
  pick(arr) {
    return arr[Math.floor(this.f() * arr.length)];
  }
  chance(p) {
    return this.f() < p;
  }
  hex(n, table = HEX_LO) {
    let s = '';
    while (n >= 8) {
      const v = this.u32();
      s += table[v >>> 24] + table[(v >>> 16) & 255] + table[(v >>> 8) & 255] + table[v & 255];
      n -= 8;
    }
    if (n > 0) s += this.hex(8, table).slice(0, n);
    return s;
  }
  HEX(n) {
    return this.hex(n, HEX_UP);
  }
  digits(n) {
    let s = '';
    while (n > 0) {
      const k = Math.min(n, 9);
      s += String(this.u32() % 10 ** k).padStart(k, '0');
      n -= k;
    }
    return s;
  }
  guid() {
    const h = this.HEX(32);
    return `{${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}}`;
  }
}

const pad2 = (n) => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD HH:MM:SS" from epoch ms (UTC). */
function fmtDateTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}
function fmtDate(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}
function fmtCompact(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}`;
}

// ---------------------------------------------------------------------------
// Vocabularies.

const SITES = ['Berlin', 'Munich', 'Provo', 'Dublin', 'Paris', 'Tokyo', 'Austin', 'Bangalore', 'Sydney', 'Madrid', 'Toronto', 'Warsaw'];
const OUS = ['Sales', 'Finance', 'Engineering', 'HR', 'IT', 'Logistics', 'Marketing', 'Legal', 'Support', 'Production'];
const FIRST = [
  'anna',
  'ben',
  'carla',
  'david',
  'elena',
  'frank',
  'greta',
  'hugo',
  'ines',
  'jonas',
  'karin',
  'lars',
  'maria',
  'nils',
  'olga',
  'peter',
  'rita',
  'sven',
  'tina',
  'uwe',
];
const LAST = [
  'mueller',
  'schmidt',
  'schneider',
  'fischer',
  'weber',
  'meyer',
  'wagner',
  'becker',
  'schulz',
  'hoffmann',
  'smith',
  'jones',
  'garcia',
  'martin',
  'dubois',
  'tanaka',
  'kowalski',
  'olsen',
];

const MACHINES = [
  {
    vendor: 'Dell Inc.',
    bios: 'Dell Inc.',
    models: ['OptiPlex 7050', 'OptiPlex 7070', 'OptiPlex 5090', 'Latitude 5490', 'Latitude 7420', 'Precision 3640'],
    biosVer: ['A12', 'A19', '1.14.0', '2.6.1', '1.21.2'],
    oui: ['00:14:22', 'F8:BC:12', 'B8:CA:3A'],
  },
  {
    vendor: 'Hewlett-Packard',
    bios: 'Hewlett-Packard',
    models: ['HP Compaq dc7900', 'HP EliteDesk 800 G4', 'HP ProDesk 600 G5', 'HP EliteBook 840 G6'],
    biosVer: ['Q01 Ver. 02.31', 'Q21 Ver. 02.14.01', 'R01 Ver. 01.09.00', '786G1 v01.17'],
    oui: ['00:1F:29', '3C:D9:2B', '94:57:A5'],
  },
  {
    vendor: 'LENOVO',
    bios: 'LENOVO',
    models: ['ThinkCentre M720q', 'ThinkCentre M920s', 'ThinkPad T480', 'ThinkPad T14 Gen 2', 'ThinkStation P330'],
    biosVer: ['M1UKT4BA', 'N23ET83W (1.58 )', 'M16KT5AA', 'R1EET52W(1.52 )'],
    oui: ['00:21:CC', '54:EE:75', '8C:16:45'],
  },
  {
    vendor: 'FUJITSU',
    bios: 'FUJITSU // American Megatrends Inc.',
    models: ['ESPRIMO P558', 'ESPRIMO Q957', 'LIFEBOOK U748', 'CELSIUS W580'],
    biosVer: ['V5.0.0.13 R1.22.0', 'V5.0.0.12 R1.31.0', 'V5.0.0.11 R1.16.0'],
    oui: ['00:19:99', '4C:52:62', '90:1B:0E'],
  },
];

const CPUS = [
  ['GenuineIntel', 'Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz', 2, 2, 3000],
  ['GenuineIntel', 'Intel(R) Core(TM) i5-6500 CPU @ 3.20GHz', 4, 4, 3200],
  ['GenuineIntel', 'Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz', 6, 6, 3000],
  ['GenuineIntel', 'Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz', 4, 8, 1900],
  ['GenuineIntel', 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz', 8, 16, 2900],
  ['GenuineIntel', 'Intel(R) Xeon(R) W-2133 CPU @ 3.60GHz', 6, 12, 3600],
  ['AuthenticAMD', 'AMD Ryzen 5 PRO 4650G with Radeon Graphics', 6, 12, 3700],
  ['AuthenticAMD', 'AMD Ryzen 7 PRO 5850U with Radeon Graphics', 8, 16, 1900],
];

const DIMM_MAKERS = [
  ['Samsung', 'M378A1K43CB2-CTD'],
  ['Samsung', 'M471A1K43DB1-CWE'],
  ['Hynix Semiconductor', 'HMA81GU6CJR8N-VK'],
  ['Micron Technology', '8ATF1G64AZ-2G6E1'],
  ['Kingston', 'KF432C16BB/8'],
  ['Crucial', 'CT8G4DFRA32A.C8FE'],
];

const DISKS = [
  ['Samsung SSD 860 EVO 250GB', 250059350016, 'SATA'],
  ['Samsung SSD 970 EVO Plus 500GB', 500107862016, 'NVMe'],
  ['ST500DM002-1BD142', 500107862016, 'SATA'],
  ['WDC WD10EZEX-08WN4A0', 1000204886016, 'SATA'],
  ['TOSHIBA DT01ACA050', 500107862016, 'SATA'],
  ['INTEL SSDSC2KW256G8', 256060514304, 'SATA'],
  ['KXG60ZNV512G TOSHIBA', 512110190592, 'NVMe'],
  ['SK hynix PC711 HFS512GDE9X073N', 512110190592, 'NVMe'],
];

const NICS = [
  'Intel(R) Ethernet Connection I219-LM',
  'Intel(R) 82567LM-3 Gigabit Network Connection',
  'Realtek PCIe GbE Family Controller',
  'Broadcom NetXtreme Gigabit Ethernet',
  'Intel(R) Wireless-AC 9560 160MHz',
  'Intel(R) Wi-Fi 6 AX201 160MHz',
  'Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64',
];

const OSES = [
  {
    name: 'Microsoft Windows XP Professional',
    ver: '5.1.2600',
    sp: 'Service Pack 3',
    build: '2600',
    root: 'C:\\WINDOWS',
    pf: 'C:\\Program Files',
  },
  {
    name: 'Microsoft Windows 7 Enterprise',
    ver: '6.1.7601',
    sp: 'Service Pack 1',
    build: '7601',
    root: 'C:\\Windows',
    pf: 'C:\\Program Files',
  },
  {
    name: 'Microsoft Windows 10 Enterprise',
    ver: '10.0.19045',
    sp: '22H2',
    build: '19045.3693',
    root: 'C:\\Windows',
    pf: 'C:\\Program Files',
  },
  {
    name: 'Microsoft Windows 10 Enterprise LTSC',
    ver: '10.0.17763',
    sp: '1809',
    build: '17763.5122',
    root: 'C:\\Windows',
    pf: 'C:\\Program Files',
  },
  {
    name: 'Microsoft Windows 11 Enterprise',
    ver: '10.0.22631',
    sp: '23H2',
    build: '22631.2715',
    root: 'C:\\Windows',
    pf: 'C:\\Program Files',
  },
];

// [vendor, product, versions, install dir (under Program Files), files]
const SOFTWARE = [
  [
    'Novell, Inc.',
    'Novell Client for Windows',
    ['4.91.5.20080922', '2 SP4 (IR4)', '2 SP4 (IR10)'],
    'Novell\\Client',
    ['nwfs.sys', 'nwgina.dll', 'nwprovau.dll', 'LoginW32.exe', 'nwtray.exe', 'ncpl.cpl'],
  ],
  [
    'Novell, Inc.',
    'ZENworks Agent',
    ['7.0.3.512', '10.3.4.24063', '11.4.3.1080'],
    'Novell\\ZENworks',
    ['ZenRem32.exe', 'ZenInvScanner.exe', 'zenwsreg.exe', 'ZfdAgent.dll', 'WmSched.exe', 'InvScanner.ini'],
  ],
  [
    'Micro Focus',
    'ZENworks Adaptive Agent',
    ['2020.2.0.42', '23.4.0.187'],
    'Novell\\ZENworks\\bin',
    ['ZenworksWindowsService.exe', 'zac.exe', 'ZenUtility.dll', 'CasaAuthToken.dll'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Office Professional Plus 2010',
    ['14.0.7015.1000', '14.0.4763.1000'],
    'Microsoft Office\\Office14',
    ['WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'OUTLOOK.EXE', 'MSACCESS.EXE', 'MSO.DLL', 'OART.DLL', 'WWLIB.DLL'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Office Professional Plus 2016',
    ['16.0.4266.1001', '16.0.5422.1000'],
    'Microsoft Office\\root\\Office16',
    ['WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'OUTLOOK.EXE', 'ONENOTE.EXE', 'MSO.DLL', 'MSO20WIN32CLIENT.DLL', 'WWLIB.DLL'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft 365 Apps for enterprise - en-us',
    ['16.0.16827.20166', '16.0.17126.20132'],
    'Microsoft Office\\root\\Office16',
    ['WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'OUTLOOK.EXE', 'ONENOTE.EXE', 'MSO99LWIN32CLIENT.DLL', 'WWLIB.DLL'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Visual C++ 2015-2022 Redistributable (x64)',
    ['14.32.31332', '14.36.32532', '14.38.33130'],
    'Microsoft Visual Studio\\Shared\\VC',
    ['vcruntime140.dll', 'msvcp140.dll', 'vcruntime140_1.dll', 'concrt140.dll'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.6161',
    ['9.0.30729.6161'],
    'Microsoft Visual Studio 9.0\\VC',
    ['msvcr90.dll', 'msvcp90.dll', 'msvcm90.dll'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft .NET Framework 4.8',
    ['4.8.04084', '4.8.09032'],
    '..\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319',
    ['clr.dll', 'mscorlib.dll', 'System.dll', 'System.Xml.dll', 'ngen.exe', 'mscorsvw.exe'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Edge',
    ['119.0.2151.72', '120.0.2210.91'],
    'Microsoft\\Edge\\Application',
    ['msedge.exe', 'msedge.dll', 'msedge_elf.dll', 'identity_helper.exe'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft Teams',
    ['1.6.00.27573', '23320.3021.2567.4799'],
    'Microsoft\\Teams',
    ['Teams.exe', 'ffmpeg.dll', 'libEGL.dll', 'libGLESv2.dll'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft OneDrive',
    ['23.226.1031.0003', '23.246.1127.0002'],
    'Microsoft OneDrive',
    ['OneDrive.exe', 'FileSyncShell64.dll', 'FileCoAuth.exe'],
  ],
  [
    'Microsoft Corporation',
    'Microsoft SQL Server 2014 Express LocalDB',
    ['12.0.2000.8', '12.2.5000.0'],
    'Microsoft SQL Server\\120\\LocalDB\\Binn',
    ['sqlservr.exe', 'sqllang.dll', 'sqlmin.dll', 'SqlLocalDB.exe'],
  ],
  [
    'Adobe Systems Incorporated',
    'Adobe Reader 9.5.5',
    ['9.5.5'],
    'Adobe\\Reader 9.0\\Reader',
    ['AcroRd32.exe', 'AcroRd32.dll', 'AGM.dll', 'BIB.dll', 'CoolType.dll'],
  ],
  [
    'Adobe',
    'Adobe Acrobat Reader DC',
    ['23.006.20380', '23.008.20421'],
    'Adobe\\Acrobat Reader DC\\Reader',
    ['AcroRd32.exe', 'AcroRd32.dll', 'AGM.dll', 'BIB.dll', 'CoolType.dll', 'JP2KLib.dll'],
  ],
  [
    'Adobe Systems Incorporated',
    'Adobe Flash Player 11 ActiveX',
    ['11.7.700.224'],
    '..\\Windows\\System32\\Macromed\\Flash',
    ['Flash.ocx', 'FlashUtil_ActiveX.exe'],
  ],
  [
    'Oracle Corporation',
    'Java 8 Update 391',
    ['8.0.3910.13'],
    'Java\\jre1.8.0_391',
    ['bin\\java.exe', 'bin\\javaw.exe', 'bin\\server\\jvm.dll', 'lib\\rt.jar', 'lib\\charsets.jar'],
  ],
  [
    'Sun Microsystems, Inc.',
    'Java(TM) 6 Update 45',
    ['6.0.450'],
    'Java\\jre6',
    ['bin\\java.exe', 'bin\\javaw.exe', 'bin\\client\\jvm.dll', 'lib\\rt.jar'],
  ],
  [
    'Mozilla',
    'Mozilla Firefox ESR (x64 en-US)',
    ['115.5.0', '115.6.0', '102.15.1'],
    'Mozilla Firefox',
    ['firefox.exe', 'xul.dll', 'mozglue.dll', 'nss3.dll', 'freebl3.dll'],
  ],
  [
    'Google LLC',
    'Google Chrome',
    ['119.0.6045.200', '120.0.6099.130'],
    'Google\\Chrome\\Application',
    ['chrome.exe', 'chrome.dll', 'chrome_elf.dll', 'chrome_proxy.exe'],
  ],
  ['7-Zip', '7-Zip 19.00 (x64)', ['19.00', '22.01', '23.01'], '7-Zip', ['7z.exe', '7z.dll', '7zFM.exe', '7zG.exe']],
  [
    'Notepad++ Team',
    'Notepad++ (64-bit x64)',
    ['8.5.8', '8.6'],
    'Notepad++',
    ['notepad++.exe', 'SciLexer.dll', 'plugins\\NppExport\\NppExport.dll'],
  ],
  ['VideoLAN', 'VLC media player', ['3.0.18', '3.0.20'], 'VideoLAN\\VLC', ['vlc.exe', 'libvlc.dll', 'libvlccore.dll', 'axvlc.dll']],
  [
    'Citrix Systems, Inc.',
    'Citrix Workspace 2311',
    ['23.11.0.160'],
    'Citrix\\ICA Client',
    ['wfica32.exe', 'SelfServicePlugin\\SelfService.exe', 'concentr.exe', 'wfcrun32.exe'],
  ],
  [
    'Cisco Systems, Inc.',
    'Cisco AnyConnect Secure Mobility Client',
    ['4.10.07073', '4.10.08025'],
    'Cisco\\Cisco AnyConnect Secure Mobility Client',
    ['vpnui.exe', 'vpnagent.exe', 'vpnapi.dll', 'acwebhelper.exe'],
  ],
  [
    'Symantec Corporation',
    'Symantec Endpoint Protection',
    ['12.1.7004.6500', '14.3.9210.6000'],
    'Symantec\\Symantec Endpoint Protection',
    ['Smc.exe', 'SmcGui.exe', 'ccSvcHst.exe', 'SymCorpUI.exe', 'sepWscSvc64.exe'],
  ],
  [
    'Trend Micro Inc.',
    'Trend Micro Apex One Security Agent',
    ['14.0.12932', '14.0.12980'],
    'Trend Micro\\Security Agent',
    ['PccNTMon.exe', 'NTRTScan.exe', 'TmListen.exe', 'TmCCSF.exe'],
  ],
  [
    'SAP',
    'SAP GUI for Windows 7.70',
    ['7.70 Compilation 2', '7.70 Patch 8'],
    'SAP\\FrontEnd\\SAPgui',
    ['saplogon.exe', 'sapgui.exe', 'sapfewdll.dll', 'SAPguiRes.dll'],
  ],
  [
    'Autodesk',
    'Autodesk DWG TrueView 2022 - English',
    ['24.1.51.0'],
    'Autodesk\\DWG TrueView 2022 - English',
    ['dwgviewr.exe', 'acdb24.dll', 'AcGeoLocation.dll'],
  ],
  [
    'TeamViewer',
    'TeamViewer',
    ['15.47.3', '15.48.4'],
    'TeamViewer',
    ['TeamViewer.exe', 'TeamViewer_Service.exe', 'tv_w32.exe', 'tv_x64.exe'],
  ],
  ['Igor Pavlov', '7-Zip 9.20', ['9.20.00.0'], '7-Zip', ['7z.exe', '7z.dll', '7zFM.exe']],
  [
    'Python Software Foundation',
    'Python 3.11.6 (64-bit)',
    ['3.11.6150.0'],
    'Python311',
    ['python.exe', 'python311.dll', 'pythonw.exe', 'DLLs\\_ssl.pyd', 'DLLs\\_socket.pyd'],
  ],
  [
    'The Git Development Community',
    'Git',
    ['2.42.0.2', '2.43.0'],
    'Git',
    ['bin\\git.exe', 'mingw64\\bin\\git.exe', 'usr\\bin\\bash.exe', 'git-bash.exe'],
  ],
  [
    'Kofax, Inc.',
    'Kofax Power PDF Standard',
    ['3.0.0.18', '4.0.0.10'],
    'Kofax\\Power PDF 40',
    ['PDFPro.exe', 'PDFCore.dll', 'NuanceLS.exe'],
  ],
  ['DATEV eG', 'DATEV Arbeitsplatz', ['13.1', '14.0'], 'DATEV\\PROGRAMM', ['DvArbPl.exe', 'DvBase.dll', 'DvSys.dll']],
  ['Société Générale', 'SG Connect Desktop', ['2.4.1'], 'SG\\Connect', ['sgconnect.exe', 'sgcore.dll']],
  [
    'Hewlett-Packard',
    'HP Universal Print Driver PCL6',
    ['61.250.1.24832', '7.0.1.24923'],
    '..\\Windows\\System32\\spool\\drivers\\x64\\3',
    ['hpcu250u.dll', 'hpcpe250.dll', 'hpcui250.dll'],
  ],
  [
    'Intel Corporation',
    'Intel(R) Management Engine Components',
    ['11.8.50.3460', '2023.15.0.2'],
    'Intel\\Intel(R) Management Engine Components',
    ['LMS\\LMS.exe', 'DAL\\jhi_service.exe', 'FWService\\IntelMeFWService.exe'],
  ],
  [
    'Realtek Semiconductor Corp.',
    'Realtek High Definition Audio Driver',
    ['6.0.1.8186', '6.0.9225.1'],
    'Realtek\\Audio\\HDA',
    ['RtkNGUI64.exe', 'RAVCpl64.exe', 'RtlUpd64.exe'],
  ],
  [
    'NVIDIA Corporation',
    'NVIDIA Graphics Driver 537.70',
    ['537.70'],
    'NVIDIA Corporation\\Control Panel Client',
    ['nvcplui.exe', 'nvcpl.dll', 'nvapi64.dll'],
  ],
  ['WinZip Computing, S.L.', 'WinZip 27.0', ['27.0.15240'], 'WinZip', ['WINZIP64.EXE', 'WZSHLSTB.DLL', 'wzcloud.dll']],
  ['PuTTY', 'PuTTY release 0.79 (64-bit)', ['0.79.0.0'], 'PuTTY', ['putty.exe', 'pscp.exe', 'psftp.exe', 'plink.exe', 'pageant.exe']],
  [
    'Zoom Video Communications, Inc.',
    'Zoom Workplace (64-bit)',
    ['5.16.10.26186', '5.17.0.28375'],
    'Zoom\\bin',
    ['Zoom.exe', 'CptHost.exe', 'zzhost.dll', 'zVideoApp.dll'],
  ],
  [
    'Dell Inc.',
    'Dell Command | Update for Windows Universal',
    ['4.9.0', '5.1.0'],
    'Dell\\CommandUpdate',
    ['DellCommandUpdate.exe', 'dcu-cli.exe', 'ServiceShell.exe'],
  ],
  [
    'LibreOffice',
    'LibreOffice 7.5.8.2',
    ['7.5.8.2', '7.6.3.2'],
    'LibreOffice\\program',
    ['soffice.exe', 'swriterlo.dll', 'sclo.dll', 'mergedlo.dll'],
  ],
];

const SYS_FILES = [
  'kernel32.dll',
  'user32.dll',
  'gdi32.dll',
  'advapi32.dll',
  'ntdll.dll',
  'shell32.dll',
  'ole32.dll',
  'oleaut32.dll',
  'comctl32.dll',
  'comdlg32.dll',
  'ws2_32.dll',
  'wininet.dll',
  'urlmon.dll',
  'crypt32.dll',
  'secur32.dll',
  'rpcrt4.dll',
  'msvcrt.dll',
  'shlwapi.dll',
  'setupapi.dll',
  'winspool.drv',
  'netapi32.dll',
  'dnsapi.dll',
  'iphlpapi.dll',
  'wtsapi32.dll',
  'cmd.exe',
  'explorer.exe',
  'notepad.exe',
  'regedit.exe',
  'svchost.exe',
  'services.exe',
  'lsass.exe',
  'winlogon.exe',
  'taskmgr.exe',
  'mmc.exe',
  'msiexec.exe',
  'rundll32.exe',
  'spoolsv.exe',
  'wuauclt.exe',
  'dllhost.exe',
  'conhost.exe',
  'drivers\\ntfs.sys',
  'drivers\\tcpip.sys',
  'drivers\\ndis.sys',
  'drivers\\disk.sys',
  'drivers\\volsnap.sys',
  'drivers\\afd.sys',
];
const SYS_DIRS = [
  'System32',
  'SysWOW64',
  'System32\\wbem',
  'WinSxS\\amd64_microsoft-windows-shell32_31bf3856ad364e35',
  'System32\\DriverStore\\FileRepository',
];

const FILE_SUBDIRS = [
  '\\x64',
  '\\x86',
  '\\plugins',
  '\\locale\\en-US',
  '\\locale\\de-DE',
  '\\locale\\fr-FR',
  '\\resources',
  '\\1033',
  '\\1031',
  '\\bin',
  '\\lib',
  '\\help',
];
const GENERIC_FILES = [
  'msvcp140.dll',
  'vcruntime140.dll',
  'api-ms-win-crt-runtime-l1-1-0.dll',
  'api-ms-win-crt-stdio-l1-1-0.dll',
  'ucrtbase.dll',
  'resources.pak',
  'icudtl.dat',
  'license.txt',
  'readme.txt',
  'uninstall.exe',
  'unins000.exe',
  'unins000.dat',
  'update.exe',
  'config.xml',
  'settings.ini',
  'log4j.properties',
  'libeay32.dll',
  'ssleay32.dll',
  'libcrypto-3-x64.dll',
  'libssl-3-x64.dll',
  'zlib1.dll',
  'sqlite3.dll',
  'd3dcompiler_47.dll',
  'libEGL.dll',
  'libGLESv2.dll',
  'help.chm',
  'strings.mui',
  'en-US.pak',
];
const PATCHES = ['Security Update', 'Update', 'Hotfix', 'Cumulative Update', 'Servicing Stack Update'];

// Names of the ~1-in-50 workstations whose file name needs more than "_"
// encoding: spaces, non-ASCII letters (NFC), "%", "+", "'", "&", "#", "~".
// All valid on Linux and Windows (no / \ : * ? " < > | and no trailing dot or space).
const SPECIAL_TAGS = [
  'Lab 2',
  'Café',
  'Müller',
  'Peña',
  'Ærø',
  'Raum 101',
  '50%',
  'A+B',
  "O'Brien",
  'R&D',
  'Düsseldorf Süd',
  '#7',
  'Kraków',
  '~tmp',
  'Zoë',
];

// ---------------------------------------------------------------------------
// Output buffer.

class Out {
  constructor(cap) {
    // Unpooled and filled to the last byte before it is returned.
    this.buf = Buffer.allocUnsafeSlow(cap);
    this.off = 0;
    this.limit = cap;
  }
  /** Writes one CRLF-terminated line if it fits under the limit; returns false when it does not. */
  line(s) {
    // A line of n UTF-16 units takes at most 3n bytes: only near the limit is
    // the exact byte length needed.
    const need = (s.length * 3 > this.limit - this.off - 2 ? Buffer.byteLength(s, 'utf8') : s.length) + 2;
    if (this.off + need > this.limit) return false;
    this.off += this.buf.write(s, this.off, 'utf8');
    this.buf[this.off++] = 13;
    this.buf[this.off++] = 10;
    return true;
  }
}

// ---------------------------------------------------------------------------
// File names.

function workstationId(index) {
  return `WS-${String(index + 1).padStart(5, '0')}`;
}

function makeName(seed, index) {
  const r = new Rng(seedOf(seed, index, 0x6e616d65));
  const ws = workstationId(index);
  const hex = r.hex(8);
  // Deterministically, exactly one index in every 50 (index % 50 === 3, so a
  // set of 5 files already has one) gets a name that needs percent-encoding
  // beyond "_".
  if (index % 50 === 3) {
    const tag = SPECIAL_TAGS[Math.floor(index / 50) % SPECIAL_TAGS.length];
    return `${ws} ${tag}_${hex}.str`;
  }
  return `${ws}_${hex}.str`;
}

// ---------------------------------------------------------------------------
// Content.

function writeContent(out, r, seed, index, name, size) {
  const ws = workstationId(index);
  const site = r.pick(SITES);
  const ou = r.pick(OUS);
  const machine = r.pick(MACHINES);
  const model = r.pick(machine.models);
  const os = r.pick(OSES);
  const user = `${r.pick(FIRST)}.${r.pick(LAST)}`;
  // Scan time: somewhere in 2026, to the second.
  const scanMs = Date.UTC(2026, 0, 1) + r.int(0, 364 * 86400) * 1000;
  const installBase = scanMs - r.int(200, 2500) * 86400000;
  /** a whole second between the OS install and the scan */
  const sinceInstall = () => installBase + Math.floor(r.f() * ((scanMs - installBase) / 1000)) * 1000;
  const dn = `CN=${ws}.OU=Workstations.OU=${ou}.OU=${site}.O=ACME`;

  const L = (s) => out.line(s);
  L(';ZENworks Inventory Scan Data');
  L(`;Generated by ZenInvScanner for ${ws} - do not edit`);
  L('[Header]');
  L('Format=STR');
  L('FormatVersion=7.0');
  L(`ScannerVersion=${r.pick(['7.0.3.512', '7.0.3.20090324', '7.0.2.20071211', '10.3.4.24063'])}`);
  L(`ScanTime=${fmtCompact(scanMs)}Z`);
  L(`ScanTimeText=${fmtDateTime(scanMs)} UTC`);
  L(`ScanMode=${r.chance(0.8) ? 'Delta' : 'Full'}`);
  L(`Workstation=${ws}`);
  L(`WorkstationDN=${dn}`);
  L('Tree=ACME');
  L(`InventoryServer=CN=LEAF${r.int(1, 4)}_ZenInvService.OU=Servers.OU=${site}.O=ACME`);
  L(`WorkstationGUID=${r.guid()}`);
  L(`ScanFile=${name}`);
  L(`Generator=zenroll-strgen seed=${seed} index=${index}`);
  L(`LastLoginUser=CN=${user}.OU=Users.OU=${ou}.O=ACME`);
  L(`Site=${site}`);
  L('');

  // Hardware.
  L('[ComputerSystem]');
  L(`Manufacturer=${machine.vendor}`);
  L(`Model=${model}`);
  L(`SerialNumber=${r.HEX(7)}`);
  L(`AssetTag=ACME-${r.digits(6)}`);
  L(`ChassisType=${model.match(/Latitude|EliteBook|ThinkPad|LIFEBOOK/) ? 'Notebook' : 'Desktop'}`);
  L(`SystemUUID=${r.guid().slice(1, -1)}`);
  L('');
  L('[BIOS]');
  L(`Manufacturer=${machine.bios}`);
  L(`Version=${r.pick(machine.biosVer)}`);
  L(`ReleaseDate=${fmtDate(installBase - r.int(30, 900) * 86400000)}`);
  L(`SMBIOSVersion=${r.pick(['2.7', '2.8', '3.0', '3.2', '3.4'])}`);
  L(`SerialNumber=${r.HEX(7)}`);
  L(`BootMode=${r.chance(0.7) ? 'UEFI' : 'Legacy'}`);
  L('');

  const cpu = r.pick(CPUS);
  const sockets = cpu[4] === 3600 && r.chance(0.3) ? 2 : 1;
  for (let s = 0; s < sockets; s++) {
    L(`[Processor.${s + 1}]`);
    L(`Vendor=${cpu[0]}`);
    L(`Name=${cpu[1]}`);
    L(`Cores=${cpu[2]}`);
    L(`LogicalProcessors=${cpu[3]}`);
    L(`MaxClockMHz=${cpu[4]}`);
    L(`CurrentClockMHz=${cpu[4] - r.int(0, 40) * 10}`);
    L(`L2CacheKB=${r.pick([256, 512, 1024, 2048, 4096])}`);
    L(`L3CacheKB=${r.pick([0, 6144, 9216, 12288, 16384])}`);
    L(`ProcessorId=${r.HEX(16)}`);
    L(`Socket=${r.pick(['LGA1151', 'LGA1200', 'LGA775', 'AM4', 'BGA1528'])}`);
    L('');
  }

  const slots = r.pick([2, 2, 4, 4, 4]);
  const dimm = r.pick(DIMM_MAKERS);
  const perSlot = r.pick([2048, 4096, 8192, 8192, 16384]);
  const used = r.int(1, slots);
  L('[Memory]');
  L(`TotalPhysicalMB=${perSlot * used}`);
  L(`Slots=${slots}`);
  L('Slot.Format=Slot|SizeMB|Type|SpeedMHz|Manufacturer|PartNumber|SerialNumber');
  for (let s = 1; s <= slots; s++) {
    L(
      s <= used
        ? `Slot.${s}=DIMM${s}|${perSlot}|DDR4|${r.pick([2400, 2666, 3200])}|${dimm[0]}|${dimm[1]}|${r.HEX(8)}`
        : `Slot.${s}=DIMM${s}|0|Empty|0|||`,
    );
  }
  L('');

  const nDisks = r.int(1, 2);
  for (let d = 0; d < nDisks; d++) {
    const disk = r.pick(DISKS);
    L(`[Disk.${d + 1}]`);
    L(`Model=${disk[0]}`);
    L(`Interface=${disk[2]}`);
    L(`SizeBytes=${disk[1]}`);
    L(`SerialNumber=${r.HEX(r.pick([12, 16, 20]))}`);
    L(`Firmware=${r.HEX(2)}${r.digits(2)}${r.HEX(2)}`);
    const parts = d === 0 ? 2 : 1;
    L('Partition.Format=Drive|FileSystem|Label|SizeBytes|FreeBytes|VolumeSerial');
    for (let p = 1; p <= parts; p++) {
      const size = Math.floor(disk[1] / parts / 1048576) * 1048576;
      const drive = d === 0 ? (p === 1 ? (parts === 2 ? '' : 'C:') : 'C:') : 'D:';
      const label = drive === '' ? 'System Reserved' : drive === 'C:' ? 'OS' : 'DATA';
      L(
        `Partition.${p}=${drive}|NTFS|${label}|${drive === '' ? 524288000 : size}|${drive === '' ? r.int(100, 480) * 1048576 : r.int(1, Math.floor(size / 1048576)) * 1048576}|${r.HEX(4)}-${r.HEX(4)}`,
      );
    }
    L('');
  }

  const nNics = r.int(1, 3);
  for (let n = 0; n < nNics; n++) {
    const mac = `${r.pick(machine.oui)}:${r.HEX(2)}:${r.HEX(2)}:${r.HEX(2)}`;
    L(`[NetworkAdapter.${n + 1}]`);
    L(`Description=${r.pick(NICS)}`);
    L(`MACAddress=${mac}`);
    L(`DHCPEnabled=${r.chance(0.85) ? 'Yes' : 'No'}`);
    const ip = `10.${r.int(1, 40)}.${r.int(0, 255)}.${r.int(2, 254)}`;
    L(`IPAddress=${ip}`);
    L('SubnetMask=255.255.255.0');
    L(`DefaultGateway=${ip.split('.').slice(0, 3).join('.')}.1`);
    if (r.chance(0.5)) L(`IPv6Address=fe80::${r.hex(4)}:${r.hex(4)}:${r.hex(4)}:${r.hex(4)}%${r.int(2, 24)}`);
    L(`DNSServers=10.0.0.53,10.0.1.53`);
    L(`DNSDomain=${site.toLowerCase()}.acme.example`);
    L(`LinkSpeedMbps=${r.pick([100, 1000, 1000, 866, 1201])}`);
    L('');
  }

  L('[Video]');
  L(
    `Adapter=${r.pick(['Intel(R) UHD Graphics 630', 'Intel(R) HD Graphics 530', 'AMD Radeon(TM) Graphics', 'NVIDIA Quadro P620', 'Intel(R) Iris(R) Xe Graphics'])}`,
  );
  L(`Resolution=${r.pick(['1920x1080', '1920x1200', '2560x1440', '1366x768', '1280x1024'])}`);
  L(`DriverVersion=${r.int(10, 31)}.${r.int(0, 100)}.${r.int(100, 9999)}.${r.int(1000, 9999)}`);
  L(`Monitor=${r.pick(['DELL P2419H', 'HP E243', 'LEN T24i-20', 'FUJITSU B24-8 TE', 'Generic PnP Monitor'])}|${r.HEX(10)}`);
  L('');

  // Operating system.
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
  const patchDays = [];
  for (let p = 0; p < nPatches; p++) patchDays.push(r.int(0, Math.floor((scanMs - osInstall) / 86400000 / 30)));
  patchDays.sort((a, b) => a - b);
  L('[Patches]');
  L('Patch.Format=HotFixID|Description|InstalledOn|InstalledBy');
  for (let p = 1; p <= nPatches; p++) {
    const round = osInstall + patchDays[p - 1] * 30 * 86400000;
    if (!L(`Patch.${p}=KB${4000000 + patchDays[p - 1] * 3000 + r.int(0, 2999)}|${r.pick(PATCHES)}|${fmtDate(round)}|NT AUTHORITY\\SYSTEM`))
      return;
  }
  L('');

  // Software.
  const nSw = Math.min(SOFTWARE.length, 6 + Math.floor(size / 6000) + r.int(0, 4));
  // Choose nSw distinct products (partial Fisher-Yates over indices).
  const idx = SOFTWARE.map((_, i) => i);
  for (let i = 0; i < nSw; i++) {
    const j = i + Math.floor(r.f() * (idx.length - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const installed = [];
  L('[Software]');
  L('Software.Format=Product|Vendor|Version|InstallPath|InstallDate|SizeKB|ProductCode|Source');
  for (let i = 0; i < nSw; i++) {
    const [vendor, product, versions, dir, files] = SOFTWARE[idx[i]];
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
      return;
  }
  L('');

  // Services / startup, a bit of variety.
  L('[Services]');
  L('Service.Format=Name|DisplayName|StartMode|State|Path');
  let sv = 0;
  for (const sw of installed) {
    if (!r.chance(0.35)) continue;
    const exe = sw.files.find((f) => f.toLowerCase().endsWith('.exe')) || sw.files[0];
    if (
      !L(
        `Service.${++sv}=${exe.replace(/^.*\\/, '').replace(/\.exe$/i, '')}Svc|${sw.product} Service|${r.pick(['Auto', 'Auto', 'Manual', 'Disabled'])}|${r.pick(['Running', 'Running', 'Stopped'])}|${sw.path}\\${exe}`,
      )
    )
      return;
  }
  L('');

  // File-level software scan: fills the rest of the file. The scanner walks
  // folders, so files come in runs of one product's folder, sharing its
  // install time, version and vendor.
  L('[Files]');
  L('File.Format=Path|SizeBytes|Modified|FileVersion|Product|Vendor|CRC32');
  let fn = 0;
  for (;;) {
    if (r.chance(0.7)) {
      const sw = installed[Math.floor(r.f() * installed.length)];
      const sub = r.chance(0.4) ? r.pick(FILE_SUBDIRS) : '';
      const run = r.int(3, 14);
      const t0 = sw.date + r.int(0, 3) * 60000;
      for (let k = 0; k < run; k++) {
        const f = k < sw.files.length ? sw.files[k] : r.pick(GENERIC_FILES);
        const t = fmtDateTime(t0 + r.int(0, 59) * 1000);
        if (!L(`File.${++fn}=${sw.path}${sub}\\${f}|${r.int(2048, 9000000)}|${t}|${sw.version}|${sw.product}|${sw.vendor}|${r.HEX(8)}`))
          return;
      }
    } else {
      const d = SYS_DIRS[Math.floor(r.f() * SYS_DIRS.length)];
      const run = r.int(3, 14);
      const t = fmtDateTime(sinceInstall());
      const build = `${os.ver}.${r.int(1, 5000)}`;
      const fi = Math.floor(r.f() * SYS_FILES.length);
      for (let k = 0; k < run; k++) {
        const f = SYS_FILES[(fi + k) % SYS_FILES.length];
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

/**
 * Generates one scan file. Pure and deterministic in (seed, index, minBytes, maxBytes).
 * @param {number} seed  any integer (safe range)
 * @param {number} index non-negative integer; the workstation is WS-<index+1>
 * @param {{minBytes?: number, maxBytes?: number}} [opts]
 * @returns {{ name: string, data: Buffer }} data has a size drawn uniformly from [minBytes, maxBytes]
 */
export function generateStr(seed, index, opts = {}) {
  const minBytes = opts.minBytes ?? DEFAULT_MIN_BYTES;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(minBytes) || !Number.isInteger(maxBytes) || minBytes < 0 || maxBytes < minBytes) {
    throw new RangeError(`need integers 0 <= minBytes <= maxBytes, got ${minBytes}, ${maxBytes}`);
  }
  const name = makeName(seed, index);
  const r = new Rng(seedOf(seed, index, 0x73747221));
  const size = r.int(minBytes, maxBytes);

  const TRAILER_RESERVE = 64;
  const out = new Out(size);
  out.limit = Math.max(0, size - TRAILER_RESERVE);
  writeContent(out, r, seed, index, name, size);

  // Trailer + padding to exactly `size` bytes.
  out.limit = size;
  const end = '[EndOfScan]';
  const remaining = size - out.off;
  if (remaining >= end.length + 2 + 4 + 2) {
    // "Pad=" + filler + CRLF, then "[EndOfScan]" CRLF
    const fill = remaining - (end.length + 2) - 4 - 2;
    out.line(`Pad=${'.'.repeat(fill)}`);
    out.line(end);
  } else {
    out.buf.fill(0x20, out.off, size); // tiny sizes only: spaces
    out.off = size;
  }
  if (out.off !== size) throw new Error(`strgen: internal error, wrote ${out.off} of ${size} bytes`);
  return { name, data: out.buf };
}

/** deflate-raw level 6 ratio (original/compressed) of some buffers, as a number. */
export function deflateRatio(buffers) {
  let raw = 0;
  let comp = 0;
  for (const b of buffers) {
    raw += b.length;
    comp += deflateRawSync(b, { level: 6 }).length;
  }
  return comp ? raw / comp : 0;
}

/**
 * Writes `count` files generated with `seed` into `out` (created if missing).
 * File i gets the mtime baseMtimeMs + i * mtimeStepMs, so arrival order by mtime
 * is the index order. Existing files in `out` are left alone (same names are overwritten).
 * @returns {Promise<{out:string, files:number, totalBytes:number, minSize:number, maxSize:number,
 *   sampleFiles:number, sampleRatio:number, ms:number, names:string[]}>}
 */
export async function writeFixtures({
  out,
  count,
  seed = 1,
  minBytes = DEFAULT_MIN_BYTES,
  maxBytes = DEFAULT_MAX_BYTES,
  mtimeStepMs = 1000,
  startIndex = 0,
  baseMtimeMs = DEFAULT_BASE_MTIME_MS,
  sample = 16,
} = {}) {
  if (!out) throw new TypeError('writeFixtures: out is required');
  if (!Number.isInteger(count) || count < 0) throw new TypeError(`writeFixtures: count must be a non-negative integer, got ${count}`);
  const t0 = performance.now();
  await mkdir(out, { recursive: true });
  const sampleEvery = count > 0 && sample > 0 ? Math.max(1, Math.floor(count / sample)) : Infinity;
  const sampled = [];
  const names = [];
  let totalBytes = 0;
  let minSize = Infinity;
  let maxSize = 0;
  // Synchronous writes: generation is CPU-bound anyway, and for many small
  // files writeFileSync is markedly faster than the promise API. Yield to the
  // event loop now and then so a caller's timers and I/O are not starved.
  for (let i = 0; i < count; i++) {
    const index = startIndex + i;
    const { name, data } = generateStr(seed, index, { minBytes, maxBytes });
    const file = join(out, name);
    const t = (baseMtimeMs + index * mtimeStepMs) / 1000;
    writeFileSync(file, data);
    utimesSync(file, t, t);
    if (i % 64 === 63) await new Promise((res) => setImmediate(res));
    names.push(name);
    totalBytes += data.length;
    if (data.length < minSize) minSize = data.length;
    if (data.length > maxSize) maxSize = data.length;
    if (i % sampleEvery === 0 && sampled.length < sample) sampled.push(data);
  }
  return {
    out,
    files: count,
    totalBytes,
    minSize: count ? minSize : 0,
    maxSize,
    sampleFiles: sampled.length,
    sampleRatio: deflateRatio(sampled),
    ms: performance.now() - t0,
    names,
  };
}
