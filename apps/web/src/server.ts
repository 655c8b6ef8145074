import { createServer } from "node:http";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import next from "next";
import { registerOnaApi } from "@ona/api/registry";
import { ConfigError, loadConfig } from "./config";
import { startSystem } from "./system";

/**
 * One process, one port. The API (/api/trpc, /api/health) goes straight to tRPC's node
 * adapter; pages and the auth routes go to Next. The API is what CLIs and pipelines call
 * many times a second, and Next's request machinery would cost most of its throughput.
 */
async function main() {
  const config = loadConfig();
  const system = await startSystem(config);
  registerOnaApi(system.api);

  const appDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const nextApp = next({ dev: false, dir: appDir, hostname: "localhost", port: config.port });
  await nextApp.prepare();
  const handlePage = nextApp.getRequestHandler();

  const server = createServer((req, res) => {
    system.api
      .handleApi(req, res)
      .then((handled) => {
        if (handled) return undefined;
        system.api.setClientAddressHeader(req);
        return handlePage(req, res);
      })
      .catch((error: unknown) => {
        console.error(JSON.stringify({ level: "error", message: "request failed", error: String(error) }));
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "internal error: the server logged the details; try again" } }));
      });
  });
  // Keep idle connections longer than clients do (undici: 4 s, proxies: 60 s), so a client never
  // reuses a connection the server is closing at that moment.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    console.error(`Ona is listening on http://localhost:${port} (data in ${config.dataDir})`);
  });

  const shutdown = () => {
    server.close();
    system.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(`Ona could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
