import type { TRPCRouterRecord } from "@trpc/server";
import {
  CreateTokenInput,
  CreateTokenOutput,
  ListTokensInput,
  ListTokensOutput,
  PersonalAccessToken,
  TokenIdInput,
} from "@ona/contracts";
import { createToken, getToken, listTokens, revokeToken } from "../services/tokens";
import { readProcedure, writeProcedure } from "../trpc";

export const tokenRouter = {
  /** Needs a signed-in session: a token cannot mint tokens. The only response with the secret. */
  create: writeProcedure({ action: "token.create", subjectType: "token" }, { sessionOnly: true })
    .input(CreateTokenInput)
    .output(CreateTokenOutput)
    .mutation(({ ctx, input }) => createToken(ctx.deps, ctx.viewer.userId, input)),

  list: readProcedure
    .input(ListTokensInput)
    .output(ListTokensOutput)
    .query(({ ctx, input }) => listTokens(ctx.deps, ctx.viewer.userId, input)),

  get: readProcedure
    .input(TokenIdInput)
    .output(PersonalAccessToken)
    .query(({ ctx, input }) => getToken(ctx.deps, ctx.viewer.userId, input.id)),

  revoke: writeProcedure({ action: "token.revoke", subjectType: "token" })
    .input(TokenIdInput)
    .output(PersonalAccessToken)
    .mutation(({ ctx, input }) => revokeToken(ctx.deps, ctx.viewer.userId, input.id)),
} satisfies TRPCRouterRecord;
