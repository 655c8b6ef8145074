// Writes prisma/<provider>/schema.prisma from prisma/models.prisma, so that the two providers'
// schemas can never drift apart. `--check` exits 1 when a written file is out of date.
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const models = readFileSync(join(root, "prisma/models.prisma"), "utf8");
export const providers = ["sqlite", "postgresql"];

export function composedSchema(provider) {
  return `// Written by scripts/compose-schemas.mjs from models.prisma: do not edit.
generator client {
  provider     = "prisma-client"
  output       = "../../src/generated/${provider}"
  moduleFormat = "esm"
  runtime      = "nodejs"
}

datasource db {
  provider = "${provider}"
}

${models}`;
}

const check = process.argv.includes("--check");
let stale = false;
for (const provider of providers) {
  const file = join(root, "prisma", provider, "schema.prisma");
  const text = composedSchema(provider);
  if (check) {
    if (!existsSync(file) || readFileSync(file, "utf8") !== text) {
      console.error(`${file} is out of date: run pnpm --filter @ona/db generate`);
      stale = true;
    }
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}
process.exit(stale ? 1 : 0);
