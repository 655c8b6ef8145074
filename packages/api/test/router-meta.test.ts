import { describe, expect, it } from "vitest";
import { appRouter } from "../src/root";
import type { Meta } from "../src/trpc";

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  meta?: Meta;
}

const procedures = Object.entries(appRouter._def.procedures as Record<string, { _def: ProcedureDef }>).map(
  ([path, procedure]) => ({ path, def: procedure._def }),
);

describe("every procedure declares its access", () => {
  it("finds the procedures", () => {
    expect(procedures.length).toBeGreaterThan(10);
  });

  it.each(procedures)("$path declares read or write access", ({ def }) => {
    expect(def.meta?.access).toMatch(/^(read|write)$/);
  });

  it.each(procedures.filter((p) => p.def.type === "mutation"))("mutation $path needs write access and is audited", ({ def }) => {
    expect(def.meta?.access).toBe("write");
    expect(def.meta?.audit?.action).toMatch(/^[a-z]+\.[a-z]+$/i);
  });

  it.each(procedures.filter((p) => p.def.type === "query"))("query $path needs only read access", ({ def }) => {
    expect(def.meta?.access).toBe("read");
  });

  it("token.create needs a signed-in session", () => {
    const create = procedures.find((p) => p.path === "token.create");
    expect(create?.def.meta).toMatchObject({ access: "write", sessionOnly: true, audit: { action: "token.create" } });
  });
});
