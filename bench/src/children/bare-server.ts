// The floor for the API benchmark: node:http and the same Prisma read environment.list makes
// (the user's environments that are not deleted, newest first, one page + 1 row), mapped to
// the same wire shape and serialised, with no tRPC, no authentication and no Next.
import { createServer } from "node:http";
import { toEnvironment } from "@ona/api";
import { openDatabase } from "@ona/db";

const port = Number(process.env.PORT);
const databaseUrl = process.env.DATABASE_URL;
const userId = process.env.BENCH_USER_ID;
const pageSize = Number(process.env.BENCH_PAGE_SIZE ?? "20");
if (!databaseUrl || !userId || !Number.isInteger(port)) throw new Error("PORT, DATABASE_URL and BENCH_USER_ID are required");

const { db } = await openDatabase(databaseUrl);

const server = createServer((req, res) => {
  if (req.url === "/api/health") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  db.environment
    .findMany({
      where: { AND: [{ userId }, { phase: { not: "ENVIRONMENT_PHASE_DELETED" } }, {}] },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: pageSize + 1,
    })
    .then((rows) => {
      const items = rows.slice(0, pageSize).map(toEnvironment);
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify({ result: { data: { items, nextToken: rows.length > pageSize ? "x" : null } } }));
    })
    .catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
});
server.listen(port, "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  void db.$disconnect().finally(() => process.exit(0));
});
