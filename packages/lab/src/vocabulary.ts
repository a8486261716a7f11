// What a scan is made of: the sites, people, machines, operating systems and
// software of a plausible ACME estate. Every list is picked from by the seeded
// generator, so its order is part of the output: append, never reorder.

export interface Machine {
  vendor: string;
  bios: string;
  models: readonly string[];
  biosVer: readonly string[];
  oui: readonly string[];
}

/** [vendor, name, cores, logical processors, max clock MHz] */
export type Cpu = readonly [vendor: string, name: string, cores: number, logical: number, mhz: number];
/** [manufacturer, part number] */
export type Dimm = readonly [maker: string, part: string];
/** [model, size in bytes, interface] */
export type DiskModel = readonly [model: string, bytes: number, iface: string];

export interface Os {
  name: string;
  ver: string;
  sp: string;
  build: string;
  root: string;
  pf: string;
}

/** [vendor, product, versions, install dir (under Program Files, or `..\` for under C:\), files] */
export type Product = readonly [vendor: string, product: string, versions: readonly string[], dir: string, files: readonly string[]];

export const SITES: readonly string[] = [
  'Berlin',
  'Munich',
  'Provo',
  'Dublin',
  'Paris',
  'Tokyo',
  'Austin',
  'Bangalore',
  'Sydney',
  'Madrid',
  'Toronto',
  'Warsaw',
];
export const OUS: readonly string[] = [
  'Sales',
  'Finance',
  'Engineering',
  'HR',
  'IT',
  'Logistics',
  'Marketing',
  'Legal',
  'Support',
  'Production',
];
export const FIRST: readonly string[] = [
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
export const LAST: readonly string[] = [
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

export const MACHINES: readonly Machine[] = [
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

export const CPUS: readonly Cpu[] = [
  ['GenuineIntel', 'Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz', 2, 2, 3000],
  ['GenuineIntel', 'Intel(R) Core(TM) i5-6500 CPU @ 3.20GHz', 4, 4, 3200],
  ['GenuineIntel', 'Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz', 6, 6, 3000],
  ['GenuineIntel', 'Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz', 4, 8, 1900],
  ['GenuineIntel', 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz', 8, 16, 2900],
  ['GenuineIntel', 'Intel(R) Xeon(R) W-2133 CPU @ 3.60GHz', 6, 12, 3600],
  ['AuthenticAMD', 'AMD Ryzen 5 PRO 4650G with Radeon Graphics', 6, 12, 3700],
  ['AuthenticAMD', 'AMD Ryzen 7 PRO 5850U with Radeon Graphics', 8, 16, 1900],
];

export const DIMM_MAKERS: readonly Dimm[] = [
  ['Samsung', 'M378A1K43CB2-CTD'],
  ['Samsung', 'M471A1K43DB1-CWE'],
  ['Hynix Semiconductor', 'HMA81GU6CJR8N-VK'],
  ['Micron Technology', '8ATF1G64AZ-2G6E1'],
  ['Kingston', 'KF432C16BB/8'],
  ['Crucial', 'CT8G4DFRA32A.C8FE'],
];

export const DISKS: readonly DiskModel[] = [
  ['Samsung SSD 860 EVO 250GB', 250059350016, 'SATA'],
  ['Samsung SSD 970 EVO Plus 500GB', 500107862016, 'NVMe'],
  ['ST500DM002-1BD142', 500107862016, 'SATA'],
  ['WDC WD10EZEX-08WN4A0', 1000204886016, 'SATA'],
  ['TOSHIBA DT01ACA050', 500107862016, 'SATA'],
  ['INTEL SSDSC2KW256G8', 256060514304, 'SATA'],
  ['KXG60ZNV512G TOSHIBA', 512110190592, 'NVMe'],
  ['SK hynix PC711 HFS512GDE9X073N', 512110190592, 'NVMe'],
];

export const NICS: readonly string[] = [
  'Intel(R) Ethernet Connection I219-LM',
  'Intel(R) 82567LM-3 Gigabit Network Connection',
  'Realtek PCIe GbE Family Controller',
  'Broadcom NetXtreme Gigabit Ethernet',
  'Intel(R) Wireless-AC 9560 160MHz',
  'Intel(R) Wi-Fi 6 AX201 160MHz',
  'Cisco AnyConnect Secure Mobility Client Virtual Miniport Adapter for Windows x64',
];

export const OSES: readonly Os[] = [
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
export const SOFTWARE: readonly Product[] = [
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

export const SYS_FILES: readonly string[] = [
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
export const SYS_DIRS: readonly string[] = [
  'System32',
  'SysWOW64',
  'System32\\wbem',
  'WinSxS\\amd64_microsoft-windows-shell32_31bf3856ad364e35',
  'System32\\DriverStore\\FileRepository',
];

export const FILE_SUBDIRS: readonly string[] = [
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
export const GENERIC_FILES: readonly string[] = [
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
export const PATCHES: readonly string[] = ['Security Update', 'Update', 'Hotfix', 'Cumulative Update', 'Servicing Stack Update'];

// Names of the ~1-in-50 workstations whose file name needs more than "_"
// encoding: spaces, non-ASCII letters (NFC), "%", "+", "'", "&", "#", "~".
// All valid on Linux and Windows (no / \ : * ? " < > | and no trailing dot or space).
export const SPECIAL_TAGS: readonly string[] = [
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
