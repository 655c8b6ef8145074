import type { TRPCRouterRecord } from "@trpc/server";
import {
  CreateEnvironmentInput,
  EnvironmentIdInput,
  EnvironmentOutput,
  ExecInput,
  ExecOutput,
  ListEnvironmentClassesOutput,
  ListEnvironmentsInput,
  ListEnvironmentsOutput,
  LogsInput,
  LogsOutput,
} from "@ona/contracts";
import {
  createEnvironment,
  deleteEnvironment,
  environmentLogs,
  execInEnvironment,
  getEnvironment,
  listEnvironmentClasses,
  listEnvironments,
  startEnvironment,
  stopEnvironment,
} from "../services/environments";
import { readProcedure, writeProcedure } from "../trpc";

const wrap = async <T>(environment: Promise<T>) => ({ environment: await environment });

export const environmentRouter = {
  create: writeProcedure({ action: "environment.create", subjectType: "environment" })
    .input(CreateEnvironmentInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => wrap(createEnvironment(ctx.deps, ctx.viewer, input))),
  list: readProcedure
    .input(ListEnvironmentsInput)
    .output(ListEnvironmentsOutput)
    .query(({ ctx, input }) => listEnvironments(ctx.deps, ctx.viewer, input)),
  get: readProcedure
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .query(({ ctx, input }) => wrap(getEnvironment(ctx.deps, ctx.viewer, input.id))),
  start: writeProcedure({ action: "environment.start", subjectType: "environment" })
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => wrap(startEnvironment(ctx.deps, ctx.viewer, input.id))),
  stop: writeProcedure({ action: "environment.stop", subjectType: "environment" })
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => wrap(stopEnvironment(ctx.deps, ctx.viewer, input.id))),
  delete: writeProcedure({ action: "environment.delete", subjectType: "environment" })
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => wrap(deleteEnvironment(ctx.deps, ctx.viewer, input.id))),
  logs: readProcedure
    .input(LogsInput)
    .output(LogsOutput)
    .query(({ ctx, input }) => environmentLogs(ctx.deps, ctx.viewer, input)),
  exec: writeProcedure({ action: "environment.exec", subjectType: "environment" })
    .input(ExecInput)
    .output(ExecOutput)
    .mutation(({ ctx, input }) => execInEnvironment(ctx.deps, ctx.services.runner, ctx.viewer, input)),
} satisfies TRPCRouterRecord;

export const environmentClassRouter = {
  list: readProcedure
    .output(ListEnvironmentClassesOutput)
    .query(({ ctx }) => listEnvironmentClasses(ctx.deps)),
} satisfies TRPCRouterRecord;
