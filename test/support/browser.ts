import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import type { BrowserContextOptions, Page } from 'playwright-core';

/** Debian's chromium, driven by playwright-core (.ci/run installs it with apt). */
export const CHROMIUM = '/usr/bin/chromium';
export const INSTALL_HINT = 'apt-get install -y --no-install-recommends chromium';
/** Why the browser suites cannot run here, or undefined when they can. */
export const browserMissing = existsSync(CHROMIUM) ? undefined : `Debian's chromium is not installed at ${CHROMIUM}`;

/**
 * Runs a browser suite where chromium is installed. Without it: under CI=true the suite fails (CI must run it; .ci/run
 * installs chromium), elsewhere it is reported as skipped with what it would have tested.
 */
export function inBrowser(what: string, wouldTest: string, suite: () => void): void {
  if (browserMissing && process.env.CI === 'true') {
    describe(`the ${what} in a real browser`, () => {
      it('needs Debian’s chromium under CI=true', () => {
        throw new Error(`CI=true: ${browserMissing} (.ci/run installs it: ${INSTALL_HINT})`);
      });
    });
  } else if (browserMissing) {
    describe.skip(`${what} browser test skipped: ${browserMissing} (${INSTALL_HINT})`, () => {
      it(wouldTest, () => undefined);
    });
  } else {
    suite();
  }
}

/**
 * Headless, no sandbox (root in CI), and none of Chromium's own traffic (updates, sync, field trials, QUIC probes):
 * on a closed network those requests would only hang and flood. playwright-core's launch() adds a fresh temporary
 * `--user-data-dir` and removes it on close.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** An iPhone 12-15 class phone, and an ordinary laptop screen, each with the browser language given. */
export function phone(locale: string): BrowserContextOptions {
  return { viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true, locale };
}
export function desktop(locale: string): BrowserContextOptions {
  return { viewport: { width: 1280, height: 800 }, locale };
}

// The browser's globals that functions run in the page (page.evaluate) use. Declared here, for this module only:
// the project's TypeScript lib has no DOM, and src must not get one.
interface PageElement {
  readonly tagName: string;
  readonly textContent: string | null;
  readonly parentElement: PageElement | null;
  readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
}
declare const document: {
  readonly documentElement: { readonly scrollWidth: number };
  readonly body: { querySelectorAll(selector: string): ArrayLike<PageElement> };
};
declare const window: { readonly innerWidth: number };
declare function getComputedStyle(element: PageElement): { readonly color: string; readonly backgroundColor: string };

/** Text on the page whose contrast with its background is below WCAG AA (4.5:1), as "TAG "text": ratio". */
export function contrastProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (color: string) => {
      const parts = /rgba?\(([^)]+)\)/
        .exec(color)?.[1]
        ?.split(',')
        .map((p) => parseFloat(p)) ?? [0, 0, 0, 0];
      return { r: parts[0] ?? 0, g: parts[1] ?? 0, b: parts[2] ?? 0, a: parts[3] ?? 1 };
    };
    const luminance = ({ r, g, b }: { r: number; g: number; b: number }) => {
      const channel = (v: number) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element: PageElement | null): { r: number; g: number; b: number } => {
      for (let at = element; at; at = at.parentElement) {
        const color = rgb(getComputedStyle(at).backgroundColor);
        if (color.a > 0.99) return color;
      }
      return { r: 255, g: 255, b: 255 };
    };
    const problems: string[] = [];
    for (const element of Array.from(document.body.querySelectorAll('*'))) {
      const ownText = Array.from(element.childNodes).some((n) => n.nodeType === 3 && n.textContent?.trim());
      if (!ownText) continue;
      const fg = luminance(rgb(getComputedStyle(element).color));
      const bg = luminance(background(element));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) problems.push(`${element.tagName} "${element.textContent?.trim()}": ${ratio.toFixed(2)}:1`);
    }
    return problems;
  });
}

/** The page fits its viewport's width: no horizontal scrolling on a phone. */
export async function horizontalOverflow(page: Page): Promise<number> {
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  return layout.scrollWidth - layout.innerWidth;
}
