import { z } from "zod";
import { Id, PageRequest, Timestamp, TimestampInput, hasNoNulBytes, pageOf } from "./common";
import { Principal } from "./identity";

export const EnvironmentPhase = z.enum([
  "ENVIRONMENT_PHASE_UNSPECIFIED",
  "ENVIRONMENT_PHASE_CREATING",
  "ENVIRONMENT_PHASE_STARTING",
  "ENVIRONMENT_PHASE_RUNNING",
  "ENVIRONMENT_PHASE_UPDATING",
  "ENVIRONMENT_PHASE_STOPPING",
  "ENVIRONMENT_PHASE_STOPPED",
  "ENVIRONMENT_PHASE_DELETING",
  "ENVIRONMENT_PHASE_DELETED",
]);
export type EnvironmentPhase = z.infer<typeof EnvironmentPhase>;

/** Phases a user may ask for; everything else is a step on the way. */
export const DesiredPhase = EnvironmentPhase.extract([
  "ENVIRONMENT_PHASE_RUNNING",
  "ENVIRONMENT_PHASE_STOPPED",
  "ENVIRONMENT_PHASE_DELETED",
]);
export type DesiredPhase = z.infer<typeof DesiredPhase>;

/** Short names accepted by the CLI and the list filter (`running` → ENVIRONMENT_PHASE_RUNNING). */
export function phaseFromShortName(name: string): EnvironmentPhase | null {
  const candidate = name.toUpperCase().startsWith("ENVIRONMENT_PHASE_")
    ? name.toUpperCase()
    : `ENVIRONMENT_PHASE_${name.toUpperCase()}`;
  const parsed = EnvironmentPhase.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

export function shortPhase(phase: EnvironmentPhase): string {
  return phase.replace("ENVIRONMENT_PHASE_", "").toLowerCase();
}

export const KeyValue = z.object({ key: z.string(), value: z.string() });
export type KeyValue = z.infer<typeof KeyValue>;

export const EnvironmentClass = z.object({
  id: Id,
  runnerId: Id,
  displayName: z.string(),
  description: z.string(),
  configuration: z.array(KeyValue),
  enabled: z.boolean(),
});
export type EnvironmentClass = z.infer<typeof EnvironmentClass>;

export const ListEnvironmentClassesOutput = pageOf(EnvironmentClass);
export type ListEnvironmentClassesOutput = z.infer<typeof ListEnvironmentClassesOutput>;

/** A context URL is anything git can clone: https, ssh, file:// or a local path. */
export const ContextUrl = z
  .string({ error: "a context URL is required" })
  .trim()
  .min(1, "a context URL is required")
  .max(2048, "the context URL is at most 2048 characters")
  .refine((url) => !/[\0\r\n]/.test(url), "the context URL contains control characters")
  .refine((url) => !url.startsWith("-"), "the context URL cannot start with '-'");

export const EnvironmentName = z
  .string()
  .trim()
  .min(1, "the name cannot be empty")
  .max(80, "the name is at most 80 characters")
  .refine(hasNoNulBytes, "the name must not contain NUL bytes");

export const Environment = z.object({
  id: Id,
  metadata: z.object({
    name: z.string(),
    creator: z.object({ id: Id, principal: Principal }),
    createdAt: Timestamp,
    lastStartedAt: Timestamp.optional(),
    runnerId: Id,
  }),
  spec: z.object({
    desiredPhase: EnvironmentPhase,
    machine: z.object({ class: Id }),
    content: z.object({
      initializer: z.object({ specs: z.array(z.object({ contextUrl: z.object({ url: z.string() }) })) }),
    }),
  }),
  status: z.object({
    phase: EnvironmentPhase,
    /** Increments with every phase change, so a reader can tell it saw each one. */
    statusVersion: z.number().int(),
    failureMessage: z.array(z.string()),
    warningMessage: z.array(z.string()),
  }),
});
export type Environment = z.infer<typeof Environment>;

export const CreateEnvironmentInput = z.object({
  contextUrl: ContextUrl,
  classId: Id.optional(),
  name: EnvironmentName.optional(),
});
export type CreateEnvironmentInput = z.infer<typeof CreateEnvironmentInput>;

export const ListEnvironmentsInput = PageRequest.extend({
  phases: z.array(EnvironmentPhase).max(9).optional(),
  /** Admins only: every user's environments instead of one's own. */
  allUsers: z.boolean().optional(),
});
export type ListEnvironmentsInput = z.infer<typeof ListEnvironmentsInput>;

export const ListEnvironmentsOutput = pageOf(Environment);
export type ListEnvironmentsOutput = z.infer<typeof ListEnvironmentsOutput>;

export const EnvironmentIdInput = z.object({ id: Id });
export type EnvironmentIdInput = z.infer<typeof EnvironmentIdInput>;

export const EnvironmentOutput = z.object({ environment: Environment });
export type EnvironmentOutput = z.infer<typeof EnvironmentOutput>;

export const MAX_EXEC_TIMEOUT_SECONDS = 600;
export const ExecInput = z.object({
  id: Id,
  command: z
    .array(z.string().max(32_768).refine((arg) => !arg.includes("\0"), "arguments cannot contain NUL bytes"))
    .min(1, "a command is required")
    .max(1000),
  timeoutSeconds: z.number().int().min(1).max(MAX_EXEC_TIMEOUT_SECONDS).optional(),
});
export type ExecInput = z.infer<typeof ExecInput>;

export const ExecOutput = z.object({
  exitCode: z.number().int(),
  stdout: z.string(),
  stderr: z.string(),
  /** True when stdout or stderr was cut at the cap. */
  truncated: z.boolean(),
  timedOut: z.boolean(),
});
export type ExecOutput = z.infer<typeof ExecOutput>;

export const LogsInput = z.object({ id: Id, since: TimestampInput.optional() });
export type LogsInput = z.infer<typeof LogsInput>;

export const LogLine = z.object({ at: Timestamp, stream: z.enum(["system", "stdout", "stderr"]), text: z.string() });
export type LogLine = z.infer<typeof LogLine>;

export const LogsOutput = z.object({ lines: z.array(LogLine) });
export type LogsOutput = z.infer<typeof LogsOutput>;
