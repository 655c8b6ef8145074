import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from "playwright-core";

export const SCREENSHOT_DIR = resolve(import.meta.dirname, "../browser/screenshots");

export interface Browser {
  context: BrowserContext;
  /** The first tab, already watched for console errors. */
  page: Page;
  /** Opens another tab, watched the same way. */
  newPage(): Promise<Page>;
  /** Console errors and uncaught exceptions seen so far, on every tab. */
  errors: string[];
  /** Messages matching these are expected for a while (e.g. while the server is made unreachable). */
  expectErrors(pattern: RegExp | null): void;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Debian's chromium, headless, with a fresh profile, driven by playwright-core. Background
 * networking is off: on a closed network chromium would otherwise keep failing to phone home.
 */
export async function launchBrowser(options: { origin: string }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "ona-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    locale: "en-US",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: options.origin });
  context.setDefaultTimeout(15_000);

  const errors: string[] = [];
  let expected: RegExp | null = null;
  const watch = (page: Page) => {
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() !== "error") return;
      const text = `${message.text()} (${message.location().url})`;
      if (expected?.test(text)) return;
      errors.push(`console error on ${page.url()}: ${text}`);
    });
    page.on("pageerror", (error) => errors.push(`uncaught exception on ${page.url()}: ${error.stack ?? error.message}`));
    return page;
  };
  const page = watch(context.pages()[0] ?? (await context.newPage()));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });

  return {
    context,
    page,
    newPage: async () => watch(await context.newPage()),
    errors,
    expectErrors: (pattern) => {
      expected = pattern;
    },
    screenshot: async (target, name) => {
      await target.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true, animations: "disabled" });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
