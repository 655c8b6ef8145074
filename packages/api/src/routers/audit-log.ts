import type { TRPCRouterRecord } from "@trpc/server";
import { ListAuditLogInput, ListAuditLogOutput } from "@ona/contracts";
import { listAuditLog } from "../services/audit";
import { readProcedure } from "../trpc";

export const auditLogRouter = {
  list: readProcedure
    .input(ListAuditLogInput)
    .output(ListAuditLogOutput)
    .query(({ ctx, input }) => listAuditLog(ctx.deps, ctx.viewer, input)),
} satisfies TRPCRouterRecord;
