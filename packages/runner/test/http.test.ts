import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ExecOutput } from "@ona/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerError, createRemoteRunnerClient, createRunnerHttpHandler, type ExecRequest, type RunnerClient } from "../src";

const SECRET = "runner-shared-secret-for-tests-0123456789";

describe("runner over HTTP", () => {
  let server: Server;
  let url: string;
  const calls: ExecRequest[] = [];
  const fake: RunnerClient = {
    async exec(request) {
      calls.push(request);
      if (request.environmentId === "missing") throw new RunnerError("NOT_FOUND", "environment missing not found");
      if (request.environmentId === "stopped") throw new RunnerError("FAILED_PRECONDITION", "environment stopped is not running; start it first");
      if (request.environmentId === "boom") throw new Error("disk on fire");
      const output: ExecOutput = { exitCode: 3, stdout: request.command.join(" "), stderr: "é\n", truncated: false, timedOut: false };
      return output;
    },
  };

  beforeAll(async () => {
    server = createServer(createRunnerHttpHandler(fake, { sharedSecret: SECRET }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (body: unknown, headers: Record<string, string> = { Authorization: `Bearer ${SECRET}` }) =>
    fetch(`${url}/exec`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

  it("runs exec through the remote client and returns the runner's output", async () => {
    const client = createRemoteRunnerClient({ url, sharedSecret: SECRET });
    const output = await client.exec({ environmentId: "env1", command: ["echo", "hi there"], timeoutSeconds: 5 });
    expect(output).toEqual({ exitCode: 3, stdout: "echo hi there", stderr: "é\n", truncated: false, timedOut: false });
    expect(calls.at(-1)).toEqual({ environmentId: "env1", command: ["echo", "hi there"], timeoutSeconds: 5 });
  });

  it("passes the runner's errors through with their codes", async () => {
    const client = createRemoteRunnerClient({ url: `${url}/`, sharedSecret: SECRET });
    await expect(client.exec({ environmentId: "missing", command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({
      name: "RunnerError",
      code: "NOT_FOUND",
      message: "environment missing not found",
    });
    await expect(client.exec({ environmentId: "stopped", command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
    });
    await expect(client.exec({ environmentId: "boom", command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({ code: "INTERNAL" });
  });

  it("refuses requests without the right secret", async () => {
    const before = calls.length;
    const none = await post({ environmentId: "env1", command: ["true"], timeoutSeconds: 5 }, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="ona-runner"');
    const wrong = await post({ environmentId: "env1", command: ["true"], timeoutSeconds: 5 }, { Authorization: `Bearer ${SECRET}x` });
    expect(wrong.status).toBe(401);
    const prefix = await post({ environmentId: "env1", command: ["true"], timeoutSeconds: 5 }, { Authorization: `Bearer ${SECRET.slice(0, 10)}` });
    expect(prefix.status).toBe(401);
    expect(calls.length).toBe(before);

    const client = createRemoteRunnerClient({ url, sharedSecret: "not-the-secret-at-all" });
    await expect(client.exec({ environmentId: "env1", command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
  });

  it("validates the request", async () => {
    expect((await post({ environmentId: "env1", command: [], timeoutSeconds: 5 })).status).toBe(400);
    expect((await post({ environmentId: "env1", command: ["true"], timeoutSeconds: 0 })).status).toBe(400);
    expect((await post({ environmentId: "env1", command: ["a\0b"], timeoutSeconds: 5 })).status).toBe(400);
    const notJson = await fetch(`${url}/exec`, { method: "POST", headers: { Authorization: `Bearer ${SECRET}` }, body: "{" });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${url}/exec`, { headers: { Authorization: `Bearer ${SECRET}` } })).status).toBe(405);
    expect((await fetch(`${url}/other`)).status).toBe(404);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
  });

  it("says so when the runner cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = createRemoteRunnerClient({ url: `http://127.0.0.1:${port}`, sharedSecret: SECRET });
    await expect(client.exec({ environmentId: "env1", command: ["true"], timeoutSeconds: 5 })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      message: expect.stringContaining("is it running (pnpm ona-runner)?"),
    });
  });

  it("refuses a short shared secret", () => {
    expect(() => createRunnerHttpHandler(fake, { sharedSecret: "short" })).toThrow(/at least 16/);
  });
});
