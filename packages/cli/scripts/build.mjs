// Bundles the CLI into dist/: the executable entry dist/ona.js and the chunks it imports on demand.
// ESM, everything inlined (commander, yaml, cli-table3, zod, the SDK and the contracts), no server
// code, minified so it starts fast.
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const outdir = join(root, "dist");
const outfile = join(outdir, "ona.js");

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

// Chunk names carry a content hash: clear the old ones so an installed CLI ships only this build.
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  // Split: dist/ona.js is the small entry (it answers --version itself) and imports the commands'
  // chunk on demand, so `ona --version` does not parse the whole CLI.
  entryPoints: { ona: join(root, "src/main.ts") },
  outdir,
  splitting: true,
  chunkNames: "ona-[name]-[hash]",
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
const outputs = Object.entries(result.metafile.outputs);
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const total = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(`dist: ${kib(total)} in ${outputs.length} files (entry dist/ona.js ${kib(result.metafile.outputs["dist/ona.js"]?.bytes ?? 0)}), ${inputs.length} modules bundled`);
