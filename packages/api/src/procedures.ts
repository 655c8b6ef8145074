import type { ZodType } from "zod";
import { appRouter } from "./root";
import type { Meta } from "./trpc";

/** One procedure of the router as tests and tools see it: its path, kind, declared access and input contract. */
export interface ProcedureInfo {
  path: string;
  type: "query" | "mutation" | "subscription";
  meta: Meta | undefined;
  input: ZodType | undefined;
}

interface ProcedureDef {
  type: ProcedureInfo["type"];
  meta?: Meta;
  inputs: unknown[];
}

/**
 * Every procedure of the router, flattened. The access-declaration check, the access matrix
 * and the generated-input tests all walk the router through this one function.
 */
export function listProcedures(): ProcedureInfo[] {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>;
  return Object.entries(procedures).map(([path, procedure]) => ({
    path,
    type: procedure._def.type,
    meta: procedure._def.meta,
    input: procedure._def.inputs[0] as ZodType | undefined,
  }));
}
