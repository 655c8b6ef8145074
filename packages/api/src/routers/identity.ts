import type { TRPCRouterRecord } from "@trpc/server";
import { WhoAmI } from "@ona/contracts";
import { readProcedure } from "../trpc";
import { whoami } from "../services/identity";

export const identityRouter = {
  whoami: readProcedure.output(WhoAmI).query(({ ctx }) => whoami(ctx.viewer)),
} satisfies TRPCRouterRecord;
