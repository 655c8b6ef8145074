import { integrationConfig } from "@ona/vitest-config";

// The integration suites: real HTTP servers, real databases (SQLite, or PostgreSQL with
// ONA_TEST_DB=postgres), real processes. `pnpm test` runs them on both databases.
export default integrationConfig({ include: ["**/*.test.ts"], exclude: ["**/node_modules/**"] });
