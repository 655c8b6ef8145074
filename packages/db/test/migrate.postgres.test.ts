import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../src/migrate";
import { freshPostgresDatabase, startPostgres, type PostgresServer } from "../src/testing";
import { describeMigrations } from "./migrate-suite";
import { removeTempDirs, sql } from "./support";

// A real PostgreSQL 15, started for this file and stopped after it (DESIGN.md §7).
let server: PostgresServer | undefined;
const running = (): PostgresServer => {
  if (server === undefined) throw new Error("PostgreSQL did not start (see beforeAll)");
  return server;
};

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
  removeTempDirs();
});

let n = 0;

describeMigrations({
  provider: "postgresql",
  // migrate() creates a missing database, as `prisma migrate deploy` does.
  newUrl: () => running().urlFor(`new_${++n}`),
  fresh: () => freshPostgresDatabase(running()),
  // Separate connections in one process really do overlap on PostgreSQL.
  migrateConcurrently: (url, count) => Promise.all(Array.from({ length: count }, () => migrate(url))),
});

describe("the PostgreSQL test harness", () => {
  it("clones fresh databases from the migrated template", async () => {
    // In parallel, as concurrent test files would.
    const [a, b, ...others] = await Promise.all(Array.from({ length: 4 }, () => freshPostgresDatabase(running())));
    if (a === undefined || b === undefined) throw new Error("expected four databases");
    expect(new Set([a, b, ...others].map((d) => d.url)).size).toBe(4);
    await sql(a.url, `INSERT INTO runner (id, name, kind) VALUES ('r', 'r', 'local')`);
    expect(await sql(b.url, `SELECT count(*)::int AS n FROM runner`)).toEqual([{ n: 0 }]);
    expect(await migrate(b.url)).toEqual({ provider: "postgresql", applied: [] });
    await Promise.all([a, b, ...others].map((d) => d.drop()));
    const names = await sql(running().urlFor("postgres"), `SELECT datname FROM pg_database WHERE datname = ANY($1)`, [
      [a.url, b.url].map((url) => new URL(url).pathname.slice(1)),
    ]);
    expect(names).toEqual([]);
  });
});
