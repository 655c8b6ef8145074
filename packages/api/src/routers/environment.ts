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
import type { RunnerClient } from "@ona/runner";
import { readProcedure, writeProcedure } from "../trpc";

const wrap = async <T>(environment: Promise<T>) => ({ environment: await environment });

/** After a desired phase is recorded, tells an in-process runner to look now rather than at its next poll. */
const nudging = async <T>(runner: RunnerClient, environment: Promise<T>) => {
  const output = await wrap(environment);
  runner.nudge?.();
  return output;
};

export const environmentRouter = {
  create: writeProcedure({ action: "environment.create", subjectType: "environment" })
    .input(CreateEnvironmentInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => nudging(ctx.services.runner, createEnvironment(ctx.deps, ctx.viewer, input))),
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
    .mutation(({ ctx, input }) => nudging(ctx.services.runner, startEnvironment(ctx.deps, ctx.viewer, input.id))),
  stop: writeProcedure({ action: "environment.stop", subjectType: "environment" })
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => nudging(ctx.services.runner, stopEnvironment(ctx.deps, ctx.viewer, input.id))),
  delete: writeProcedure({ action: "environment.delete", subjectType: "environment" })
    .input(EnvironmentIdInput)
    .output(EnvironmentOutput)
    .mutation(({ ctx, input }) => nudging(ctx.services.runner, deleteEnvironment(ctx.deps, ctx.viewer, input.id))),
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
