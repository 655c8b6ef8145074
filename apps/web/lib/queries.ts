"use client";

import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ListAuditLogInput, TokenStatus } from "@ona/contracts";
import { isInTransition } from "./format";
import { api, type RouterInputs } from "./trpc";

/** One place for cache keys, so a mutation can refresh exactly what it changed. */
export const keys = {
  tokens: ["token"] as const,
  tokenList: (statuses: readonly TokenStatus[]) => ["token", "list", statuses] as const,
  environments: ["environment"] as const,
  environmentList: ["environment", "list"] as const,
  environment: (id: string) => ["environment", "get", id] as const,
  environmentLogs: (id: string) => ["environment", "logs", id] as const,
  environmentClasses: ["environmentClass", "list"] as const,
  audit: ["auditLog"] as const,
  auditList: (input: ListAuditLogInput) => ["auditLog", "list", input] as const,
};

const TOKEN_PAGE_SIZE = 100;

/** Tokens with the given statuses, newest first, a page of 100 at a time. */
export function useTokenList(statuses: readonly TokenStatus[]) {
  return useInfiniteQuery({
    queryKey: keys.tokenList(statuses),
    queryFn: ({ pageParam }) =>
      api.token.list.query({ status: [...statuses], pageSize: TOKEN_PAGE_SIZE, ...(pageParam ? { nextToken: pageParam } : {}) }),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.nextToken,
  });
}

export function useCreateToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: RouterInputs["token"]["create"]) => api.token.create.mutate(input),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens }),
  });
}

export function useRevokeToken() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => api.token.revoke.mutate({ id }),
    onSuccess: () => Promise.all([client.invalidateQueries({ queryKey: keys.tokens }), client.invalidateQueries({ queryKey: keys.audit })]),
  });
}

/** How often to look again: quickly while something is changing, slowly otherwise. */
const FAST_POLL_MS = 1_000;
const SLOW_POLL_MS = 5_000;

export function useEnvironmentList() {
  return useQuery({
    queryKey: keys.environmentList,
    queryFn: () => api.environment.list.query({ pageSize: 100 }),
    refetchInterval: (query) => (query.state.data?.items.some(isInTransition) ? FAST_POLL_MS : SLOW_POLL_MS),
  });
}

export function useEnvironment(id: string) {
  return useQuery({
    queryKey: keys.environment(id),
    queryFn: () => api.environment.get.query({ id }),
    select: (data) => data.environment,
    refetchInterval: (query) => {
      if (query.state.error) return false;
      const environment = query.state.data?.environment;
      return environment && isInTransition(environment) ? FAST_POLL_MS : SLOW_POLL_MS;
    },
  });
}

export function useEnvironmentLogs(id: string, live: boolean) {
  return useQuery({
    queryKey: keys.environmentLogs(id),
    queryFn: () => api.environment.logs.query({ id }),
    select: (data) => data.lines,
    refetchInterval: (query) => (query.state.error ? false : live ? FAST_POLL_MS : SLOW_POLL_MS),
  });
}

export function useEnvironmentClasses() {
  return useQuery({
    queryKey: keys.environmentClasses,
    queryFn: () => api.environmentClass.list.query(),
    select: (data) => data.items,
    staleTime: 60_000,
  });
}

export function useCreateEnvironment() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: RouterInputs["environment"]["create"]) => api.environment.create.mutate(input),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.environments }),
  });
}

export type EnvironmentAction = "start" | "stop" | "delete";

export function useEnvironmentAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: EnvironmentAction }) => {
      switch (action) {
        case "start":
          return api.environment.start.mutate({ id });
        case "stop":
          return api.environment.stop.mutate({ id });
        case "delete":
          return api.environment.delete.mutate({ id });
      }
    },
    onSuccess: ({ environment }) => {
      client.setQueryData(keys.environment(environment.id), { environment });
      return Promise.all([client.invalidateQueries({ queryKey: keys.environments }), client.invalidateQueries({ queryKey: keys.audit })]);
    },
  });
}

export function useAuditLog(input: ListAuditLogInput) {
  return useQuery({
    queryKey: keys.auditList(input),
    queryFn: () => api.auditLog.list.query(input),
    placeholderData: keepPreviousData,
  });
}
