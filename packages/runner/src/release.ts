import { readdirSync } from "node:fs";
import { createIsolation } from "./isolation";
import { isSafeEnvironmentId } from "./workspace";

/**
 * Ends every environment kept in `environmentsDir` and gives back what each held on the machine
 * (its sandbox, disk, uid and control groups); their folders stay. Environments outlive a
 * runner's stop by design, so this is for taking a runner's folder out of service: the test
 * suites call it before removing their temporary folders.
 */
export async function releaseAllEnvironments(environmentsDir: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(environmentsDir);
  } catch {
    return;
  }
  const isolation = createIsolation({ mode: "sandbox", environmentsDir, runnerEnv: {}, localSource: () => null });
  for (const id of names.filter(isSafeEnvironmentId)) {
    await isolation.end(id, 0);
    await isolation.dispose(id);
  }
}
