import { describe, expect, it, vi } from "vitest";
import type { Environment, EnvironmentPhase } from "@ona/contracts";
import { EnvironmentFailedError, UnavailableError, WaitTimeoutError, waitForEnvironment } from "../src";

function environment(phase: EnvironmentPhase, extra: { failure?: string[]; version?: number; desired?: EnvironmentPhase } = {}): Environment {
  return {
    id: "env1",
    metadata: { name: "repo", creator: { id: "u", principal: "user" }, createdAt: "2030-01-01T00:00:00.000Z", runnerId: "local" },
    spec: { desiredPhase: extra.desired ?? "ENVIRONMENT_PHASE_RUNNING", machine: { class: "local-small" }, content: { initializer: { specs: [{ contextUrl: { url: "/repo" } }] } } },
    status: { phase, statusVersion: extra.version ?? 0, failureMessage: extra.failure ?? [], warningMessage: [] },
  };
}

/** A reader that answers with each of these in turn (the last one forever). */
function sequence(...answers: (Environment | Error)[]) {
  let index = 0;
  return {
    reads: () => index,
    environments: {
      get: () => {
        const answer = answers[Math.min(index++, answers.length - 1)];
        if (!answer) throw new Error("no answers");
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    },
  };
}

const RUNNING = "ENVIRONMENT_PHASE_RUNNING";

describe("waitForEnvironment", () => {
  it("resolves on the phase and reports each change once", async () => {
    const reader = sequence(
      environment("ENVIRONMENT_PHASE_CREATING", { version: 1 }),
      environment("ENVIRONMENT_PHASE_CREATING", { version: 1 }),
      environment("ENVIRONMENT_PHASE_STARTING", { version: 2 }),
      environment(RUNNING, { version: 3 }),
    );
    const seen: string[] = [];
    const done = await waitForEnvironment(reader, "env1", RUNNING, { pollIntervalMs: 1, onProgress: (e) => seen.push(e.status.phase) });
    expect(done.status.phase).toBe(RUNNING);
    expect(seen).toEqual(["ENVIRONMENT_PHASE_CREATING", "ENVIRONMENT_PHASE_STARTING", RUNNING]);
  });

  it("rejects with the failure message when the environment fails", async () => {
    const reader = sequence(
      environment("ENVIRONMENT_PHASE_CREATING", { version: 1 }),
      environment("ENVIRONMENT_PHASE_STOPPED", { version: 2, failure: ["git clone failed: repository not found"] }),
    );
    const error = await waitForEnvironment(reader, "env1", RUNNING, { pollIntervalMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFailedError);
    expect((error as EnvironmentFailedError).message).toBe("git clone failed: repository not found");
    expect((error as EnvironmentFailedError).failureMessage).toEqual(["git clone failed: repository not found"]);
  });

  it("ignores the failure of an earlier attempt until the environment moves on", async () => {
    const before = environment("ENVIRONMENT_PHASE_STOPPED", { version: 5, failure: ["old failure"] });
    const reader = sequence(before, before, environment("ENVIRONMENT_PHASE_STARTING", { version: 6 }), environment(RUNNING, { version: 7 }));
    const done = await waitForEnvironment(reader, "env1", RUNNING, { pollIntervalMs: 1, since: before });
    expect(done.status.statusVersion).toBe(7);

    const again = sequence(before, environment("ENVIRONMENT_PHASE_STARTING", { version: 6 }), environment("ENVIRONMENT_PHASE_STOPPED", { version: 8, failure: ["old failure"] }));
    await expect(waitForEnvironment(again, "env1", RUNNING, { pollIntervalMs: 1, since: before })).rejects.toThrow("old failure");
  });

  it("rejects when the environment is asked for another phase or deleted meanwhile", async () => {
    await expect(
      waitForEnvironment(sequence(environment("ENVIRONMENT_PHASE_STOPPING", { desired: "ENVIRONMENT_PHASE_STOPPED" })), "env1", RUNNING, { pollIntervalMs: 1 }),
    ).rejects.toThrow(/no longer meant to be running: it was asked to be stopped/);
    await expect(
      waitForEnvironment(sequence(environment("ENVIRONMENT_PHASE_DELETED", { desired: "ENVIRONMENT_PHASE_DELETED" })), "env1", "ENVIRONMENT_PHASE_STOPPED", { pollIntervalMs: 1 }),
    ).rejects.toThrow(/was deleted/);
  });

  // Time is the fake timers' here: how many reads fit in the wait is then exact, not up to the machine's load.
  it("times out with the last environment seen, having read once per interval until then", async () => {
    vi.useFakeTimers();
    try {
      const reader = sequence(environment("ENVIRONMENT_PHASE_CREATING"));
      const outcome = waitForEnvironment(reader, "env1", RUNNING, { pollIntervalMs: 5, timeoutMs: 60 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(60);
      const error = await outcome;
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).message).toBe("timed out after 60ms waiting for environment env1 to be running (it is creating)");
      // A read at 0, 5, …, 60 ms, then the deadline.
      expect(reader.reads()).toBe(13);
    } finally {
      vi.useRealTimers();
    }
  });

  it("times out even when a read hangs", async () => {
    vi.useFakeTimers();
    try {
      const hanging = { environments: { get: () => new Promise<Environment>(() => undefined) } };
      const outcome = waitForEnvironment(hanging, "env1", RUNNING, { timeoutMs: 50 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(50);
      expect(await outcome).toBeInstanceOf(WaitTimeoutError);
    } finally {
      vi.useRealTimers();
    }
  });

  it("retries while the server is briefly unreachable, and passes other errors on", async () => {
    const down = new UnavailableError({ code: "UNAVAILABLE", message: "down" });
    const done = await waitForEnvironment(sequence(down, down, environment(RUNNING)), "env1", RUNNING, { pollIntervalMs: 1 });
    expect(done.status.phase).toBe(RUNNING);
    const other = new Error("boom");
    await expect(waitForEnvironment(sequence(other), "env1", RUNNING, { pollIntervalMs: 1 })).rejects.toBe(other);
  });
});
