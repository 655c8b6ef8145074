// 6. Web: first-load JavaScript of the personal access tokens page, from the Next.js build
// output (.next), checked against the script tags the production server actually sends.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { z } from "zod";
import type { Benchmark, BenchContext } from "../lib/context";
import { signUp } from "../lib/http";
import { NEXT_DIR } from "../lib/paths";
import { codeBlock, type ResultRow, type SectionResult } from "../lib/report";
import { startProductionServer } from "../lib/servers";
import { bytes, percent } from "../lib/stats";

const TOKENS_ROUTE = "/(signed-in)/settings/personal-access-tokens/page";
const TOKENS_URL = "/settings/personal-access-tokens";
const PAGES: { route: string; label: string }[] = [
  { route: TOKENS_ROUTE, label: "tokens page /settings/personal-access-tokens" },
  { route: "/sign-in/page", label: "sign-in page /sign-in" },
  { route: "/(signed-in)/environments/page", label: "environments page /environments" },
  { route: "/(signed-in)/settings/audit-log/page", label: "audit log page /settings/audit-log" },
];

const BuildManifest = z.object({ rootMainFiles: z.array(z.string()), polyfillFiles: z.array(z.string()) });
const ClientManifest = z.object({ entryJSFiles: z.record(z.string(), z.array(z.string())) });

interface Size {
  files: string[];
  raw: number;
  gzip: number;
}

function sizeOf(files: Iterable<string>): Size {
  const list = [...new Set(files)].sort();
  let raw = 0;
  let gzip = 0;
  for (const file of list) {
    const content = readFileSync(join(NEXT_DIR, file));
    raw += content.length;
    gzip += gzipSync(content, { level: 9 }).length;
  }
  return { files: list, raw, gzip };
}

const describe = (size: Size): string => `${bytes(size.gzip)} gzip (${bytes(size.raw)} raw, ${size.files.length} files)`;

/** The framework's runtime every page loads, plus every chunk the page's segments (layouts, boundaries, page) list. */
function firstLoadFiles(route: string): { framework: string[]; page: string[] } {
  const build = BuildManifest.parse(JSON.parse(readFileSync(join(NEXT_DIR, "build-manifest.json"), "utf8")));
  const manifestFile = join(NEXT_DIR, "server/app", `${route}_client-reference-manifest.js`);
  if (!existsSync(manifestFile)) throw new Error(`${manifestFile} is missing: is the web app built?`);
  const sandbox: { __RSC_MANIFEST?: Record<string, unknown> } = {};
  runInNewContext(readFileSync(manifestFile, "utf8"), sandbox);
  const manifest = ClientManifest.parse(sandbox.__RSC_MANIFEST?.[route]);
  return { framework: build.rootMainFiles, page: Object.values(manifest.entryJSFiles).flat() };
}

/** The scripts in the tokens page's HTML as the production server sends it to a signed-in user. */
async function servedScripts(): Promise<string[]> {
  const server = await startProductionServer();
  try {
    const account = await signUp(server.url, "bench-web@example.com");
    const response = await fetch(`${server.url}${TOKENS_URL}`, { headers: { cookie: account.cookie } });
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${TOKENS_URL} answered ${response.status}`);
    // Scripts (not the nomodule polyfills modern browsers skip) and script preloads, fetched before the page runs.
    const tags = [...html.matchAll(/<(?:script|link)\b[^>]*>/g)].map((match) => match[0]);
    return tags
      .filter((tag) => !/\bnoModule\b/i.test(tag) && (tag.startsWith("<script") || /rel="preload"/.test(tag)))
      .map((tag) => /(?:src|href)="\/_next\/([^"?]+\.js)"/.exec(tag)?.[1] ?? "")
      .filter(Boolean);
  } finally {
    await server.stop();
  }
}

async function run(context: BenchContext): Promise<SectionResult> {
  const rows: ResultRow[] = [];
  const details: string[] = [];
  const tokens = firstLoadFiles(TOKENS_ROUTE);
  const framework = sizeOf(tokens.framework);
  const tokensPage = sizeOf([...tokens.framework, ...tokens.page]);
  rows.push({
    measurement: "first-load JS, tokens page (build output)",
    value: describe(tokensPage),
    baseline: `Next + React runtime: ${bytes(framework.gzip)}`,
    ratio: `app code ${bytes(tokensPage.gzip - framework.gzip)} (${percent(tokensPage.gzip - framework.gzip, tokensPage.gzip)})`,
    verdict: "info",
  });
  for (const page of PAGES.slice(1)) {
    try {
      const files = firstLoadFiles(page.route);
      rows.push({ measurement: `first-load JS, ${page.label}`, value: describe(sizeOf([...files.framework, ...files.page])), verdict: "info" });
    } catch {
      // A page another change removed or renamed: not this benchmark's concern.
    }
  }
  context.log("  checking against the page the production server sends");
  const referenced = [...new Set(await servedScripts())];
  const missing = referenced.filter((file) => !existsSync(join(NEXT_DIR, file)));
  const served = sizeOf(referenced.filter((file) => existsSync(join(NEXT_DIR, file))));
  rows.push({
    measurement: "scripts in the served tokens page HTML",
    value: describe(served) + (missing.length > 0 ? ` (${missing.length} files gone: .next was rebuilt during the run)` : ""),
    verdict: "info",
  });
  details.push(
    "First-load JS = the runtime chunks every page loads (build-manifest.json rootMainFiles) + the chunks of every segment of the " +
      "route (root and settings layouts, loading/error boundaries, the page) from its client reference manifest; polyfills " +
      "(nomodule) are not counted. gzip -9 per file, as Next's own report did. The second number checks it against the script " +
      "and preload tags in the HTML the production server sends to a signed-in user.",
    `Chunks of the tokens page:\n\n${codeBlock(tokensPage.files.map((file) => `${file}  ${bytes(gzipSync(readFileSync(join(NEXT_DIR, file)), { level: 9 }).length)} gzip`).join("\n"))}`,
  );
  return { id: "web", title: "6. Web: first-load JavaScript", rows, details };
}

export const webFirstLoad: Benchmark = { id: "web", title: "Web first-load JavaScript", run };
