import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { tokenHint, type AuditLogEntry, type Environment } from "@ona/contracts";
import { startTestDatabases, testDatabaseProvider, type TestDatabases } from "@ona/db/testing";
import { launchBrowser, type Browser } from "../support/browser";
import { mutate, query, signUp, type SignedUpUser } from "../support/client";
import { startProductionServer, type ProductionServer } from "../support/production-server";
import { repositoryDir } from "../support/repositories";

/**
 * The web settings UI in a real browser (Debian's chromium) against the production build:
 * what a user does in the order they would do it. Each step builds on the one before.
 */

const DAY = 24 * 60 * 60 * 1000;
const PASSWORD = "correct horse battery staple";
const USER = { name: "Grace Hopper", email: `grace-${process.pid}@example.com` };
const TOKEN_PATTERN = /^ona_pat_[0-9A-Za-z]{38}$/;

let databases: TestDatabases;
let server: ProductionServer;
let browser: Browser;
let page: Page;
let admin: SignedUpUser;
let repository: string;
const secrets = { readOnly: "", readWrite: "" };
const tokenIds = { readOnly: "", readWrite: "" };
let environmentId = "";

beforeAll(async () => {
  databases = await startTestDatabases();
  server = await startProductionServer({ database: await databases.fresh() });
  // The first account is the administrator; the user clicking through the pages is a member.
  admin = await signUp(server.url, { email: `admin-${process.pid}@example.com`, name: "Ada Admin" });
  browser = await launchBrowser({ origin: server.url });
  page = browser.page;

  repository = repositoryDir("browser-repo-");
  mkdirSync(join(repository, ".ona"));
  writeFileSync(join(repository, "README.md"), "# demo\n");
  writeFileSync(join(repository, ".ona/setup.sh"), "echo 'setting up the demo project'\n");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], { cwd: repository });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "initial commit");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await databases?.stop();
  if (repository) rmSync(repository, { recursive: true, force: true });
});

afterEach(() => {
  // Every page must run without a JavaScript error in the console.
  const errors = browser.errors.splice(0);
  expect(errors, errors.join("\n")).toEqual([]);
});

const url = (path: string) => `${server.url}${path}`;
const api = (secret: string) => query(server.url, "identity.whoami", undefined, { token: secret });

/** The document title, once the client-side navigation has set it. */
async function expectTitle(expected: string, target: Page = page): Promise<void> {
  await expect.poll(() => target.title()).toBe(expected);
}

/** Presses Tab until the focused element is the one wanted (a keyboard user's path). */
async function tabTo(name: RegExp, limit = 30): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      return element ? `${element.getAttribute("aria-label") ?? ""} ${element.textContent ?? ""}`.trim() : "";
    });
    if (name.test(focused)) return;
  }
  throw new Error(`Tab never reached ${name}`);
}

function tokenRow(description: string) {
  return page.getByTestId("token-row").filter({ hasText: description });
}

async function auditEntries(path: string): Promise<AuditLogEntry[]> {
  const result = await query(server.url, "auditLog.list", { pageSize: 100 }, { cookie: admin.cookie });
  expect(result.status, `${path}: ${result.text}`).toBe(200);
  return (result.data as { items: AuditLogEntry[] }).items;
}

describe(`web settings UI in chromium (${testDatabaseProvider()})`, () => {
  it("sends a signed-out visitor to sign in, and signs a new user up", async () => {
    await page.goto(url("/settings/personal-access-tokens"));
    await page.waitForURL(/\/sign-in\?next=%2Fsettings%2Fpersonal-access-tokens$/);
    await expectTitle("Sign in · Ona");
    await page.getByRole("heading", { name: "Sign in to Ona" }).waitFor();
    await browser.screenshot(page, "sign-in");

    await page.getByRole("link", { name: "Create one" }).click();
    await page.waitForURL(/\/sign-up\?next=/);
    await expectTitle("Create account · Ona");
    // Field errors come before any request.
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Enter your name.").waitFor();
    expect(await page.getByLabel("Name").getAttribute("aria-invalid")).toBe("true");

    await page.getByLabel("Name").fill(USER.name);
    await page.getByLabel("Email").fill(USER.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(url("/settings/personal-access-tokens"));
    await expectTitle("Personal access tokens · Ona");

    const empty = page.getByTestId("empty-state");
    await empty.waitFor();
    expect(await empty.textContent()).toContain("ona login --token <your-token>");
    await page.getByTestId("user-menu").click();
    expect(await page.getByTestId("signed-in-user").textContent()).toBe(USER.email);
    await page.keyboard.press("Escape");
    await browser.screenshot(page, "tokens-empty");
  });

  it("creates a read-only token with the keyboard alone, shows the secret once and copies it", async () => {
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.locator("body").focus();
    await tabTo(/New Token/);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "New personal access token" });
    await dialog.waitFor();

    // Empty description: the contract's message, next to the field, and nothing sent.
    const description = dialog.getByLabel("Description");
    expect(await description.evaluate((element) => element === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await dialog.getByTestId("field-error-description").waitFor();
    expect(await dialog.getByTestId("field-error-description").textContent()).toBe("A description is required.");
    expect(await description.getAttribute("aria-invalid")).toBe("true");
    await description.fill("x".repeat(101));
    await page.keyboard.press("Enter");
    await dialog.getByText("The description is at most 100 characters.").waitFor();
    await description.fill("");
    await page.keyboard.type("CI read-only");

    // 30 days is preselected and its date is shown; the date follows the choice.
    expect(await dialog.getByRole("radio", { name: "30 days" }).isChecked()).toBe(true);
    const longDate = (days: number) =>
      new Intl.DateTimeFormat("en-US", { weekday: "long", year: "numeric", month: "long", day: "numeric" }).format(new Date(Date.now() + days * DAY));
    expect(await dialog.getByTestId("expiry-date").textContent()).toContain(longDate(30));
    await dialog.getByText("60 days").click();
    expect(await dialog.getByTestId("expiry-date").textContent()).toContain(longDate(60));
    await dialog.getByRole("radio", { name: "60 days" }).focus();
    await page.keyboard.press("ArrowLeft");
    expect(await dialog.getByRole("radio", { name: "30 days" }).isChecked()).toBe(true);

    // Each access level explains itself and says it is fixed.
    const readOnly = dialog.getByRole("radio", { name: "Read-only" });
    const readWrite = dialog.getByRole("radio", { name: "Read & Write" });
    expect(await readOnly.isChecked()).toBe(true);
    for (const level of [readOnly, readWrite]) {
      expect(await level.evaluate((element) => document.getElementById(element.getAttribute("aria-describedby") ?? "")?.textContent)).toMatch(
        /Cannot be changed later/,
      );
    }
    await browser.screenshot(page, "new-token-dialog");

    await description.focus();
    await page.keyboard.press("Enter");
    const created = page.getByRole("dialog", { name: "Copy your new token" });
    await created.waitFor();
    expect(await created.textContent()).toMatch(/you won.t see it again/i);
    const secret = await created.getByTestId("token-secret").inputValue();
    expect(secret).toMatch(TOKEN_PATTERN);

    await created.getByRole("button", { name: "Copy token" }).click();
    await created.getByRole("button", { name: "Copied", exact: true }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    secrets.readOnly = secret;
    await browser.screenshot(page, "token-shown-once");

    // A stray click outside does not lose it; only the explicit dismissal does.
    await page.mouse.click(5, 5);
    expect(await created.isVisible()).toBe(true);
    await created.getByRole("button", { name: /I have copied it/ }).click();
    await created.waitFor({ state: "detached" });

    const row = tokenRow("CI read-only");
    await row.waitFor();
    expect(await row.getByTestId("token-hint").textContent()).toBe(tokenHint(secret));
    expect(await row.textContent()).toContain("Read-only");
    expect(await row.getByTestId("token-expires").textContent()).toContain("expires in 30 days");
    expect(await row.getByTestId("token-last-used").textContent()).toBe("Never used");
    tokenIds.readOnly = (await row.getAttribute("data-token-id")) ?? "";
    // The secret is never shown again.
    expect(await page.content()).not.toContain(secret);
  });

  it("creates a read & write token with the mouse", async () => {
    await page.getByRole("button", { name: "New Token" }).click();
    const dialog = page.getByRole("dialog", { name: "New personal access token" });
    await dialog.getByLabel("Description").fill("Deploy pipeline");
    await dialog.getByText("90 days").click();
    await dialog.getByText("Read & Write", { exact: true }).click();
    await dialog.getByRole("button", { name: "Create", exact: true }).click();
    const created = page.getByRole("dialog", { name: "Copy your new token" });
    secrets.readWrite = await created.getByTestId("token-secret").inputValue();
    expect(secrets.readWrite).toMatch(TOKEN_PATTERN);
    await page.keyboard.press("Escape");
    await created.waitFor({ state: "detached" });

    const row = tokenRow("Deploy pipeline");
    await row.waitFor();
    expect(await row.textContent()).toContain("Read & Write");
    expect(await row.getByTestId("token-expires").textContent()).toContain("expires in 90 days");
    tokenIds.readWrite = (await row.getAttribute("data-token-id")) ?? "";
    expect(await page.getByTestId("token-row").count()).toBe(2);
  });

  it("the tokens work with the API, and the list shows when and from where after a reload", async () => {
    for (const [secret, id, level] of [
      [secrets.readOnly, tokenIds.readOnly, "read-only"],
      [secrets.readWrite, tokenIds.readWrite, "read-write"],
    ] as const) {
      const me = await api(secret);
      expect(me.status, me.text).toBe(200);
      expect(me.data).toMatchObject({ user: { email: USER.email, role: "member" }, authMethod: "token", token: { id, accessLevel: level } });
    }
    // A read-only token may look but not change: refused, and recorded with its id.
    const refused = await mutate(server.url, "environment.create", { contextUrl: repository }, { token: secrets.readOnly });
    expect(refused.status).toBe(403);

    await page.reload();
    for (const description of ["CI read-only", "Deploy pipeline"]) {
      const lastUsed = tokenRow(description).getByTestId("token-last-used");
      await expect.poll(() => lastUsed.textContent()).toMatch(/^just now\s*from 127\.0\.0\.1$/);
    }
    await browser.screenshot(page, "tokens-list");
  });

  it("creates an environment from a local git repository, follows it to Running, stops, restarts and deletes it", { timeout: 90_000 }, async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Environments" }).click();
    await page.waitForURL(url("/environments"));
    await expectTitle("Environments · Ona");
    await page.getByTestId("empty-state").waitFor();

    await page.getByRole("button", { name: "New environment" }).click();
    const dialog = page.getByRole("dialog", { name: "New environment" });
    await dialog.getByRole("button", { name: "Create environment" }).click();
    await dialog.getByText("A context URL is required.").waitFor();
    const classSelect = dialog.getByLabel("Class");
    await expect.poll(() => classSelect.locator("option").count()).toBeGreaterThan(0);
    await dialog.getByLabel("Repository URL").fill(repository);
    await dialog.getByRole("button", { name: "Create environment" }).click();
    await dialog.waitFor({ state: "detached" });

    const row = page.getByTestId("environment-row").first();
    await row.waitFor();
    environmentId = (await row.getAttribute("data-environment-id")) ?? "";
    expect(environmentId).not.toBe("");
    expect(await row.textContent()).toContain(repository.replace(/^\//, ""));
    // The phase updates on its own, without a reload.
    const phase = row.getByTestId("environment-phase");
    await expect.poll(() => phase.getAttribute("data-phase"), { timeout: 60_000, interval: 250 }).toBe("ENVIRONMENT_PHASE_RUNNING");
    await browser.screenshot(page, "environments");

    await row.getByRole("link").first().click();
    await page.waitForURL(url(`/environments/${environmentId}`));
    await expectTitle(`Environment ${environmentId} · Ona`);
    const logs = page.getByTestId("environment-logs");
    await expect.poll(() => logs.textContent(), { timeout: 20_000 }).toContain("setting up the demo project");
    await browser.screenshot(page, "environment-detail");

    // Stop asks first.
    await page.getByRole("button", { name: /^Stop / }).click();
    const confirmStop = page.getByRole("alertdialog", { name: /Stop “/ });
    await confirmStop.getByRole("button", { name: "Stop environment" }).click();
    const detailPhase = page.getByTestId("environment-phase");
    await expect.poll(() => detailPhase.getAttribute("data-phase"), { timeout: 30_000, interval: 250 }).toBe("ENVIRONMENT_PHASE_STOPPED");

    // Started from elsewhere (a pipeline with the read & write token): the page follows.
    const started = await mutate(server.url, "environment.start", { id: environmentId }, { token: secrets.readWrite });
    expect(started.status, started.text).toBe(200);
    await expect.poll(() => detailPhase.getAttribute("data-phase"), { timeout: 30_000, interval: 250 }).toBe("ENVIRONMENT_PHASE_RUNNING");

    await page.getByRole("button", { name: /^Delete / }).click();
    const confirmDelete = page.getByRole("alertdialog", { name: /Delete “/ });
    expect(await confirmDelete.textContent()).toContain("cannot be undone");
    await confirmDelete.getByRole("button", { name: "Delete environment" }).click();
    await page.waitForURL(url("/environments"));
    await expect.poll(() => page.getByTestId("environment-row").count(), { timeout: 30_000, interval: 250 }).toBe(0);
    // Deleted environments stay readable by id, in the DELETED phase (the list leaves them out).
    const gone = await query(server.url, "environment.get", { id: environmentId }, { token: secrets.readOnly });
    expect(gone.status, gone.text).toBe(200);
    expect((gone.data as { environment: Environment }).environment.status.phase).toBe("ENVIRONMENT_PHASE_DELETED");
  });

  it("shows why an environment failed on its detail page", { timeout: 60_000 }, async () => {
    await page.getByRole("button", { name: "New environment" }).click();
    const dialog = page.getByRole("dialog", { name: "New environment" });
    await dialog.getByLabel("Repository URL").fill(join(repository, "does-not-exist"));
    await dialog.getByLabel("Name (optional)").fill("broken");
    await dialog.getByRole("button", { name: "Create environment" }).click();
    await page.getByRole("link", { name: "broken" }).click();
    const failure = page.getByTestId("failure-message");
    await failure.waitFor({ timeout: 30_000 });
    expect(await failure.textContent()).toMatch(/failed/i);
    await browser.screenshot(page, "environment-failed");

    await page.getByRole("button", { name: /^Delete / }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete environment" }).click();
    await page.waitForURL(url("/environments"));
  });

  it("revokes the read & write token after confirmation, and the API refuses it", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.waitForURL(url("/settings/personal-access-tokens"));
    await tokenRow("Deploy pipeline").getByRole("button", { name: "Revoke Deploy pipeline" }).click();
    const confirm = page.getByRole("alertdialog", { name: "Revoke “Deploy pipeline”?" });
    // Cancel first: nothing happens.
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect((await api(secrets.readWrite)).status).toBe(200);

    await tokenRow("Deploy pipeline").getByRole("button", { name: "Revoke Deploy pipeline" }).click();
    await confirm.getByRole("button", { name: "Revoke token" }).click();
    await confirm.waitFor({ state: "detached" });

    // Listed apart from the active ones.
    await expect.poll(() => page.getByRole("table", { name: "Active personal access tokens" }).getByTestId("token-row").count()).toBe(1);
    await page.getByRole("region", { name: /Revoked and expired/ }).getByRole("button", { name: "Show" }).click();
    const revoked = page.getByRole("table", { name: "Revoked and expired personal access tokens" }).getByTestId("token-row");
    expect(await revoked.textContent()).toMatch(/Deploy pipeline[\s\S]*Revoked/);
    await browser.screenshot(page, "tokens-revoked");

    const refused = await api(secrets.readWrite);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("shows the audit log newest first with token ids, filters it and pages through it", async () => {
    await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(url("/settings/audit-log"));
    await expectTitle("Audit log · Ona");
    const rows = page.getByTestId("audit-row");
    await rows.first().waitFor();
    // This user's changes and refusals, newest first: the revocation, back to the first token.
    const actions = await rows.evaluateAll((elements) => elements.map((e) => e.getAttribute("data-action")));
    expect(actions).toEqual([
      "auth.token",
      "token.revoke",
      "environment.delete",
      "environment.create",
      "environment.delete",
      "environment.start",
      "environment.stop",
      "environment.create",
      "environment.create",
      "token.create",
      "token.create",
    ]);
    const times = await page.locator("[data-testid=audit-row] time").evaluateAll((elements) => elements.map((e) => e.getAttribute("datetime") ?? ""));
    expect([...times].sort().reverse()).toEqual(times);
    await browser.screenshot(page, "audit-log");

    // Enough refused attempts with the read-only token for a second page.
    for (let i = 0; i < 25; i++) {
      const result = await mutate(server.url, "environment.stop", { id: `missing-${i}` }, { token: secrets.readOnly });
      expect(result.status).toBe(403);
    }
    await page.reload();
    await expect.poll(() => rows.count()).toBe(25);
    expect(await rows.first().getAttribute("data-action")).toBe("environment.stop");

    // Page two holds the older entries, down to the first token's creation.
    await page.getByRole("button", { name: "Older" }).click();
    await expect.poll(() => page.getByTestId("audit-page").textContent()).toBe("Page 2");
    await expect.poll(() => rows.count()).toBe(11);
    expect(await rows.last().getAttribute("data-action")).toBe("token.create");
    expect(await page.getByRole("button", { name: "Older" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Newer" }).click();
    await expect.poll(() => page.getByTestId("audit-page").textContent()).toBe("Page 1");

    // Filter by the read & write token: its start of the environment, and its refusal once revoked.
    // (The description sits between bidi isolate marks: an option can hold only text.)
    await page.getByLabel("Token").selectOption({ label: `\u2068Deploy pipeline\u2069 — ${tokenHint(secrets.readWrite)} (revoked)` });
    await page.waitForURL(url(`/settings/audit-log?token=${tokenIds.readWrite}`));
    await expect.poll(() => rows.evaluateAll((elements) => elements.map((e) => e.getAttribute("data-action")))).toEqual([
      "auth.token",
      "environment.start",
    ]);
    expect(await rows.evaluateAll((elements) => elements.map((e) => e.getAttribute("data-token-id")))).toEqual([tokenIds.readWrite, tokenIds.readWrite]);
    expect(await rows.last().textContent()).toContain(environmentId);
    expect(await rows.first().textContent()).toContain("denied");
    await browser.screenshot(page, "audit-log-filtered");

    // By action: the refused create (read-only token) and the successful ones (session).
    await page.getByLabel("Token").selectOption({ label: "Any (session or token)" });
    await page.waitForURL(url("/settings/audit-log"));
    await page.getByLabel("Action").selectOption("environment.create");
    await expect.poll(() => rows.count()).toBe(3);
    const byToken = await rows.evaluateAll((elements) => elements.map((e) => `${e.getAttribute("data-token-id")}`));
    expect(byToken.filter((id) => id === tokenIds.readOnly)).toHaveLength(1);
    const denied = rows.filter({ hasText: "denied" });
    expect(await denied.textContent()).toContain("read-only");

    // A token id links to the token, even a revoked one.
    await page.getByLabel("Action").selectOption("environment.start");
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByTestId("audit-token-link").click();
    await page.waitForURL(url(`/settings/personal-access-tokens?token=${tokenIds.readWrite}`));
    const highlighted = page.locator(`#token-${tokenIds.readWrite}`);
    await highlighted.waitFor();
    expect(await highlighted.textContent()).toContain("Deploy pipeline");

    // The server keeps the same entries: every one of this user's changes has one.
    const entries = await auditEntries("admin view");
    expect(entries.filter((e) => e.tokenId === tokenIds.readWrite).map((e) => e.action)).toEqual(["auth.token", "environment.start"]);
  });

  it("marks tokens about to expire (the browser's clock moved 26 days on)", async () => {
    const later = await browser.newPage();
    await later.clock.setFixedTime(new Date(Date.now() + 26 * DAY));
    await later.goto(url("/settings/personal-access-tokens"));
    const expires = later.getByTestId("token-row").filter({ hasText: "CI read-only" }).getByTestId("token-expires");
    await expires.waitFor();
    expect(await expires.textContent()).toMatch(/expires in 4 days/);
    expect(await expires.locator("svg").count()).toBe(1);
    expect(await later.getByTestId("token-row").filter({ hasText: "CI read-only" }).textContent()).toContain("Expiring soon");
    await later.close();
  });

  it("tells the user what to do when the server cannot be reached, and recovers", async () => {
    browser.expectErrors(/ERR_CONNECTION_REFUSED|Failed to load resource/);
    await page.route("**/api/trpc/**", (route) => route.abort("connectionrefused"));
    await page.goto(url("/environments"));
    const problem = page.getByTestId("error-state");
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/cannot reach the Ona server/i);
    expect(await problem.textContent()).toContain("Check that Ona is running");
    await browser.screenshot(page, "environments-server-down");

    await page.unroute("**/api/trpc/**");
    await problem.getByRole("button", { name: "Try again" }).click();
    await problem.waitFor({ state: "detached" });
    browser.expectErrors(null);
  });

  it("signs out from the user menu with the keyboard, and the administrator sees everyone's entries", async () => {
    await page.getByTestId("user-menu").focus();
    await page.keyboard.press("Enter");
    const signOut = page.getByRole("menuitem", { name: "Sign out" });
    await signOut.waitFor();
    // The menu takes the focus once open; arrow keys and End move through it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("menuitem");
    await page.keyboard.press("End");
    await expect.poll(() => signOut.evaluate((element) => element === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/sign-in/);
    await page.goto(url("/environments"));
    await page.waitForURL(/\/sign-in\?next=%2Fenvironments$/);

    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(url("/environments"));
    await page.goto(url(`/settings/audit-log?token=${tokenIds.readOnly}`));
    await page.getByText(/you are an administrator/).waitFor();
    const rows = page.getByTestId("audit-row");
    await expect.poll(() => rows.count()).toBe(25);
    // Another user's entries: the actor is named by id, and the token is not the admin's own.
    expect(await rows.first().textContent()).not.toContain("You");
    expect(await page.getByTestId("audit-token-link").count()).toBe(0);
  });
});
