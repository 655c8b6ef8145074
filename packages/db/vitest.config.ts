import { unitConfig } from "@ona/vitest-config";

// The suites start a PostgreSQL server and run Prisma's CLI: allow for a slow machine.
export default unitConfig({ testTimeout: 60_000, hookTimeout: 60_000 });
