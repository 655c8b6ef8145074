import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Environment } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { launchBrowser, type Browser } from "../support/browser";
import { mutate, query, signUp, type SignedUpUser } from "../support/client";
import { makeRepository } from "../support/git";
import { startProductionServer, type ProductionServer } from "../support/production-server";

/**
 * Text that people and programs write — a token's description, an environment's and a user's
 * name, the lines an environment's setup prints, a user agent in the audit log — shown in the UI
 * with markup, a right-to-left override and control characters in it. Every page must show it
 * as text (no element made of it, no script run) and keep the override inside the text: each text
 * node holding it sits in a bidi isolate (<bdi>, or the isolate marks where only a string fits).
 */
const hostile = (marker: string) => `<img src=x onerror="window.__injected='${marker}'"><b>${marker}</b>\u202Egnp.exe\u0007\u001b[31m`;

let databases: TestDatabases;
let server: ProductionServer;
let browser: Browser;
let page: Page;
let user: SignedUpUser;
let environmentId: string;

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startProductionServer({ database: await databases.fresh() });
  await signUp(server.url); // the admin
  user = await signUp(server.url, { name: hostile("USERNAME") });
  const created = await mutate(server.url, "token.create", { description: hostile("DESCRIPTION"), expiresInDays: 30, accessLevel: "read-write" }, { cookie: user.cookie });
  expect(created.status, created.text).toBe(200);
  const token = (created.data as { secret: string }).secret;

  const repository = makeRepository({
    "README.md": "# hostile\n",
    ".ona/setup.sh": `#!/bin/sh\nprintf '%s\\n' '${hostile("LOGLINE").replace(/'/g, "'\\''")}'\n`,
  });
  const environment = await mutate(server.url, "environment.create", { contextUrl: repository, name: hostile("ENVNAME") }, { token });
  expect(environment.status, environment.text).toBe(200);
  environmentId = (environment.data as { environment: Environment }).environment.id;
  const deadline = Date.now() + 90_000;
  for (;;) {
    const got = await query(server.url, "environment.get", { id: environmentId }, { token });
    const phase = (got.data as { environment: Environment }).environment.status.phase;
    if (phase === "ENVIRONMENT_PHASE_RUNNING") break;
    if (Date.now() > deadline) throw new Error(`the environment did not start: ${got.text}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // An audit row of this user's with a user agent of the sender's choosing (markup only: a header cannot carry U+202E or control bytes).
  const userAgent = `<img src=x onerror="window.__injected='USERAGENT'"><b>USERAGENT</b>`;
  const denied = await mutate(server.url, "environment.exec", { id: environmentId, command: ["true"] }, { cookie: user.cookie }, { "user-agent": userAgent, origin: "https://evil.example" });
  expect(denied.status).toBe(403);

  browser = await launchBrowser({ origin: server.url });
  page = browser.page;
  await browser.context.addCookies(
    user.cookie.split("; ").map((pair) => {
      const [name = "", ...value] = pair.split("=");
      return { name, value: value.join("="), url: server.url };
    }),
  );
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await databases?.stop();
});

afterEach(() => {
  const errors = browser.errors.splice(0);
  expect(errors, errors.join("\n")).toEqual([]);
});

interface Finding {
  shown: number;
  problems: string[];
}

/** In the page: where the text with `marker` is shown, and what is wrong with how. */
function inspect(target: Page, marker: string): Promise<Finding> {
  return target.evaluate((wanted) => {
    const problems: string[] = [];
    const injected = (window as unknown as { __injected?: string }).__injected;
    if (injected !== undefined) problems.push(`a script ran: ${injected}`);
    for (const element of document.querySelectorAll('img[src="x"], [onerror]')) problems.push(`an element was made of the text: ${element.outerHTML}`);
    for (const bold of document.querySelectorAll("b")) if (bold.textContent === wanted) problems.push("<b> was made of the text");
    let shown = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.nodeValue ?? "";
      // Next's serialized page data (in <script>) carries the text as data, never shown.
      if (!text.includes(wanted) || ["SCRIPT", "STYLE", "TEMPLATE"].includes(node.parentElement?.tagName ?? "")) continue;
      shown++;
      if (!text.includes(`<b>${wanted}</b>`)) problems.push(`the markup is not shown as text: ${JSON.stringify(text.slice(0, 200))}`);
      const parent = node.parentElement;
      const isolatedByElement = parent !== null && ["isolate", "plaintext", "isolate-override"].includes(getComputedStyle(parent).unicodeBidi);
      const start = text.indexOf("\u2068");
      const isolatedByMarks = start !== -1 && start < text.indexOf(wanted) && text.indexOf("\u2069", start) > text.indexOf("\u202e");
      if (!isolatedByElement && !isolatedByMarks) {
        problems.push(`not in a bidi isolate: <${parent?.tagName.toLowerCase() ?? "?"} class="${parent?.className ?? ""}"> ${JSON.stringify(text)}`);
      }
    }
    return { shown, problems };
  }, marker);
}

async function expectShownSafely(target: Page, marker: string, atLeast = 1) {
  await expect.poll(async () => (await inspect(target, marker)).shown, { timeout: 20_000 }).toBeGreaterThanOrEqual(atLeast);
  const finding = await inspect(target, marker);
  expect(finding.problems, marker).toEqual([]);
}

describe(`hostile text in the UI (${testDatabaseProvider()})`, () => {
  it("the tokens page and the revoke dialog: the description, and the user's name in the menu", async () => {
    await page.goto(`${server.url}/settings/personal-access-tokens`);
    await expectShownSafely(page, "DESCRIPTION");
    await expectShownSafely(page, "USERNAME");
    await page.getByRole("button", { name: /^Revoke / }).click();
    await page.getByRole("alertdialog").waitFor();
    // The table row and the dialog's title.
    await expectShownSafely(page, "DESCRIPTION", 2);
    await page.keyboard.press("Escape");
  });

  it("the environments list, the environment's page and its logs", async () => {
    await page.goto(`${server.url}/environments`);
    await expectShownSafely(page, "ENVNAME");
    await page.goto(`${server.url}/environments/${environmentId}`);
    await expectShownSafely(page, "ENVNAME");
    await expectShownSafely(page, "LOGLINE");
    await page.getByRole("button", { name: /^Stop / }).click();
    await page.getByRole("alertdialog").waitFor();
    // The heading and the dialog's title.
    await expectShownSafely(page, "ENVNAME", 2);
    await page.keyboard.press("Escape");
  });

  it("the audit log: the user agent and the token filter's descriptions", async () => {
    await page.goto(`${server.url}/settings/audit-log`);
    await expectShownSafely(page, "USERAGENT");
    await expectShownSafely(page, "DESCRIPTION");
  });
});
