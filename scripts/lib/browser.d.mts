// Types of browser.mjs, for TypeScript tests that render a page in Debian's Chromium.
import type { Browser, Page } from 'puppeteer-core';

export const CHROMIUM: string;
/** The flags Chromium is launched with (a fresh --user-data-dir is added). */
export const CHROMIUM_FLAGS: readonly string[];
export function chromiumInstalled(): boolean;

export interface LaunchBrowserOptions {
  /** Viewport, default 1280×900. */
  width?: number;
  height?: number;
  deviceScaleFactor?: number;
  /** Each navigation and wait; default 30 s. */
  timeoutMs?: number;
}

/** Lets the page's requests reach loopback addresses only; others are aborted and their URLs pushed onto offsite. */
export function loopbackOnly(page: Page, offsite: string[]): Promise<void>;

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

export function launchBrowser(opts?: LaunchBrowserOptions): Promise<LaunchedBrowser>;
