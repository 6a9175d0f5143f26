/**
 * Debian's Chromium driven by playwright-core, for the browser client's tests and its screenshot:
 * never a downloaded browser. Each page records what would show in its console as an error (a
 * script error, a failed request, a Content-Security-Policy violation), so a test can insist on none.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing (Debian: apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, uncaught exceptions and failed requests, in order. */
  errors: string[];
}

/** A new page in its own context (its own storage, as another person's browser would be). */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1000, height: 700 },
  options: { trustAnyCertificate?: boolean } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport,
    ignoreHTTPSErrors: options.trustAnyCertificate ?? false,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A WebSocket the server closes is not a failed request; anything else the page fetched is.
    errors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
  });
  await page.goto(url);
  return { page, errors };
}

/** Joins through the form, as a person would, and waits until the page says so. */
export async function joinAs(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Join' }).click();
  await page
    .getByRole('status')
    .filter({ hasText: `Joined as ${username}` })
    .waitFor();
}

/** The id of the element that has the keyboard focus. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate('document.activeElement?.id');
}

/** Types a message and presses Send. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** What the test reads of a row (this project's lib has no DOM types). */
interface ShownItem {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): { textContent: string | null } | null;
}

/** The conversation's rows as the page shows them: a sender's message, or a notice. */
export async function shownMessages(
  page: Page,
): Promise<Array<{ sender?: string; text: string; encrypted?: string; undecryptable?: string }>> {
  return page.locator('#messages > li').evaluateAll((items) =>
    (items as unknown as ShownItem[]).map((element) => {
      const text = element.querySelector('.text')?.textContent ?? '';
      return {
        ...(element.dataset.sender === undefined ? {} : { sender: element.dataset.sender }),
        text,
        ...(element.dataset.encrypted === undefined ? {} : { encrypted: element.dataset.encrypted }),
        ...(element.dataset.undecryptable === undefined
          ? {}
          : { undecryptable: element.dataset.undecryptable }),
      };
    }),
  );
}
