import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { auditLogRouter } from "./routers/audit-log";
import { environmentClassRouter, environmentRouter } from "./routers/environment";
import { identityRouter } from "./routers/identity";
import { tokenRouter } from "./routers/token";
import { router } from "./trpc";

export const appRouter = router({
  identity: identityRouter,
  token: tokenRouter,
  environment: environmentRouter,
  environmentClass: environmentClassRouter,
  auditLog: auditLogRouter,
});

export type AppRouter = typeof appRouter;
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
