// One throwaway PostgreSQL server for the whole run (started on first use, on loopback, by
// @ona/db/testing's startPostgres), and fresh migrated databases on it.
import { freshPostgresDatabase, startPostgres, type PostgresServer, type TestDatabase } from "@ona/db/testing";

let server: Promise<PostgresServer> | undefined;

export function sharedPostgres(): Promise<PostgresServer> {
  server ??= startPostgres();
  return server;
}

/** A new migrated database on the shared server. */
export async function freshPostgres(): Promise<TestDatabase> {
  return freshPostgresDatabase(await sharedPostgres());
}

/** An empty (not migrated) database: the production server migrates it on start, as it would in use. */
export async function emptyPostgres(name: string): Promise<string> {
  return (await sharedPostgres()).createDatabase(name);
}

export async function stopSharedPostgres(): Promise<void> {
  if (server === undefined) return;
  const running = await server;
  server = undefined;
  await running.stop();
}
