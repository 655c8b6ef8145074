// The schema and its migrations agree: no change to models.prisma goes without its SQL.
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { migrate } from "../src/migrate";
import { migrationTool, packageDir, removeTempDirs, run, tempDir } from "./support";

afterAll(removeTempDirs);

describe("schema and migrations", () => {
  it("the composed provider schemas are up to date with models.prisma", async () => {
    const result = await run(process.execPath, [join(packageDir, "scripts/compose-schemas.mjs"), "--check"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("every schema change has its migration (pnpm db:migration was run)", async () => {
    const result = await migrationTool(["--check"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("Prisma's own migrate status (Prisma 6) agrees that a migrated SQLite database is up to date", async () => {
    const url = `file:${join(tempDir(), "status.db")}`;
    await migrate(url);
    const result = await migrationTool(["--status", url]);
    expect(result.stdout).toContain("Database schema is up to date!");
    expect(result.code).toBe(0);
  });
});
