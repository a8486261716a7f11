/**
 * Debian's headless Chromium driven through puppeteer-core, for tests and
 * screenshots (scripts/test-browser.mjs, cli's tree-five test). Never
 * downloads a browser: it runs /usr/bin/chromium (scripts/system-deps.sh
 * installs it) with a fresh profile that is removed on close, and the flags
 * below keep it from talking to anything but the pages it is sent to.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The flags Chromium is launched with (a fresh --user-data-dir is added). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  // Root in a container has no user namespace to sandbox with.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A container's /dev/shm is often 64 MB, too small for a renderer.
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--mute-audio',
];

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

const LOCAL_PROTOCOLS = ['about:', 'data:', 'blob:'];
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/**
 * The project's rule, loopback only, held by the page itself: each request
 * is looked at, and one to any other address is aborted before it leaves
 * and its URL pushed onto `offsite`.
 */
export async function loopbackOnly(page: Page, offsite: string[]): Promise<void> {
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (LOCAL_PROTOCOLS.includes(u.protocol) || LOOPBACK_HOST.test(u.hostname)) {
      void r.continue();
      return;
    }
    offsite.push(r.url());
    void r.abort('blockedbyclient');
  });
}

export interface LaunchBrowserOptions {
  /** Viewport, default 1280×900. */
  width?: number;
  height?: number;
  deviceScaleFactor?: number;
  /** Each navigation and wait; default 30 s. */
  timeoutMs?: number;
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Loopback only, like every newPage(). */
  page: Page;
  newPage(): Promise<Page>;
  /** URLs of requests to anywhere but loopback, which were aborted. */
  readonly offsite: string[];
  /** Ends Chromium and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

/** Launch Chromium and open one page that (like every newPage()) reaches loopback addresses only. */
export async function launchBrowser(opts: LaunchBrowserOptions = {}): Promise<LaunchedBrowser> {
  if (!chromiumInstalled()) throw new Error(`${CHROMIUM} is not installed: run \`sudo bash scripts/system-deps.sh\``);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const profile = await mkdtemp(join(tmpdir(), 'zenroll-chromium-'));
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      // Exactly our flags: puppeteer's defaults would add others (and its own --headless form).
      ignoreDefaultArgs: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, 'about:blank'],
      // Chromium ends when its pipe closes, that is when this process does.
      pipe: true,
      // The caller stops it with close() (in its own signal handlers, if any):
      // puppeteer's would call process.exit() before the caller cleaned up.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      defaultViewport: { width: opts.width ?? 1280, height: opts.height ?? 900, deviceScaleFactor: opts.deviceScaleFactor ?? 1 },
      timeout: timeoutMs,
      protocolTimeout: 2 * timeoutMs,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      await browser.close();
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  };
  const offsite: string[] = [];
  const prepare = async (page: Page) => {
    page.setDefaultTimeout(timeoutMs);
    await loopbackOnly(page, offsite);
    return page;
  };
  try {
    const [first] = await browser.pages();
    const page = await prepare(first ?? (await browser.newPage()));
    return { browser, page, newPage: async () => prepare(await browser.newPage()), offsite, close };
  } catch (err) {
    await close();
    throw err;
  }
}
