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

export interface LaunchedBrowser {
  browser: Browser;
  page: Page;
  /** Ends Chromium and removes its profile; safe to call twice. */
  close(): Promise<void>;
}

export function launchBrowser(opts?: LaunchBrowserOptions): Promise<LaunchedBrowser>;
