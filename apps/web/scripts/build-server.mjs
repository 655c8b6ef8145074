// Bundles the server-side entry points (web server, admin command, runner process) into dist/.
// Workspace packages (@ona/*) ship TypeScript source, so they are bundled in; every other
// package stays external and is loaded from node_modules at run time.
import { build } from "esbuild";

await build({
  entryPoints: { server: "src/server.ts", admin: "src/admin.ts", runner: "src/runner-main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [
    {
      name: "external-node-modules",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith("@ona/") ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
