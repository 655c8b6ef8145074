// Bundles the CLI into one executable file, dist/ona.js: ESM, everything inlined (commander,
// yaml, cli-table3, zod, the SDK and the contracts), no server code, minified so it starts fast.
import { chmodSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const outfile = join(root, "dist/ona.js");

/** The CLI talks to the server over HTTP only: importing server code is a build error. */
const noServerCode = {
  name: "no-server-code",
  setup(build) {
    build.onResolve({ filter: /^(@ona\/(api|db|runner|web)|@prisma\/|prisma|better-auth|better-sqlite3|pg|next)(\/|$)/ }, (args) => ({
      errors: [{ text: `${args.path} is server code: the CLI may import it as a type only (import type …), imported from ${args.importer}` }],
    }));
  },
};

/**
 * zod re-exports every translation of its messages (`z.locales`, ~260 KiB): the CLI only uses
 * English, and the bundle parses faster without the rest.
 */
const englishOnlyZod = {
  name: "english-only-zod",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: join(dirname(args.importer), "../locales/en.js"), namespace: "zod-locales" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

const result = await build({
  entryPoints: [join(root, "src/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  define: { __ONA_VERSION__: JSON.stringify(version) },
  // commander and cli-table3 are CommonJS and require Node's built-ins.
  banner: { js: '#!/usr/bin/env node\nimport { createRequire as __onaRequire } from "node:module";\nconst require = __onaRequire(import.meta.url);' },
  plugins: [noServerCode, englishOnlyZod],
});

chmodSync(outfile, 0o755);
const inputs = Object.keys(result.metafile.inputs);
const offenders = inputs.filter((input) => /packages\/(api|db|runner)\/|@trpc\/server\/dist\/adapters|@prisma/.test(input));
if (offenders.length > 0) {
  console.error(`server code in the bundle:\n  ${offenders.join("\n  ")}`);
  process.exit(1);
}
console.log(`dist/ona.js: ${(statSync(outfile).size / 1024).toFixed(0)} KiB, ${inputs.length} modules bundled`);
