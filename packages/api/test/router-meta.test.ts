import { describe, expect, it } from "vitest";
import { listProcedures } from "../src/procedures";

const procedures = listProcedures();

describe("every procedure declares its access", () => {
  it("finds the procedures", () => {
    expect(procedures.length).toBeGreaterThan(10);
  });

  it.each(procedures)("$path declares read or write access", ({ meta }) => {
    expect(meta?.access).toMatch(/^(read|write)$/);
  });

  it.each(procedures.filter((p) => p.type === "mutation"))("mutation $path needs write access and is audited", ({ meta }) => {
    expect(meta?.access).toBe("write");
    expect(meta?.audit?.action).toMatch(/^[a-z]+\.[a-z]+$/i);
  });

  it.each(procedures.filter((p) => p.type === "query"))("query $path needs only read access", ({ meta }) => {
    expect(meta?.access).toBe("read");
  });

  it("token.create needs a signed-in session", () => {
    const create = procedures.find((p) => p.path === "token.create");
    expect(create?.meta).toMatchObject({ access: "write", sessionOnly: true, audit: { action: "token.create" } });
  });
});
