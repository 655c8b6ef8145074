import { unitConfig } from "@ona/vitest-config";

// Real git, real processes and a PostgreSQL server per suite: more time than unit tests get.
// The suites mostly wait on child processes, so two run side by side even on two cores.
export default unitConfig({ testTimeout: 30_000, hookTimeout: 60_000, maxWorkers: 2 });
