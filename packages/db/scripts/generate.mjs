// Composes both schemas and generates one Prisma client per provider. Prisma 7's CLI wants a
// schema engine binary it cannot download here; `generate` never runs it, so any existing file
// satisfies the check (see TOOLCHAIN notes in packages/db/README.md).
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
execFileSync(process.execPath, [join(root, "scripts/compose-schemas.mjs")], { stdio: "inherit" });
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(root, "scripts/no-schema-engine.sh"),
  CHECKPOINT_DISABLE: "1",
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
};
for (const provider of ["sqlite", "postgresql"]) {
  execFileSync("pnpm", ["exec", "prisma", "generate", "--schema", `prisma/${provider}/schema.prisma`], {
    cwd: root,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
}
