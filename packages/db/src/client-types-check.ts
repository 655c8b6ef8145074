// Compile-time proof that the two generated clients agree on every row type, which is what
// makes the single cast in client.ts safe. `tsc` fails here if the schemas drift apart.
import type * as Sqlite from "./generated/sqlite/client";
import type * as Postgres from "./generated/postgresql/client";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;

export type RowTypesAgree = [
  Assert<Equal<Sqlite.User, Postgres.User>>,
  Assert<Equal<Sqlite.Session, Postgres.Session>>,
  Assert<Equal<Sqlite.Account, Postgres.Account>>,
  Assert<Equal<Sqlite.Verification, Postgres.Verification>>,
  Assert<Equal<Sqlite.PersonalAccessToken, Postgres.PersonalAccessToken>>,
  Assert<Equal<Sqlite.Runner, Postgres.Runner>>,
  Assert<Equal<Sqlite.EnvironmentClass, Postgres.EnvironmentClass>>,
  Assert<Equal<Sqlite.Environment, Postgres.Environment>>,
  Assert<Equal<Sqlite.EnvironmentLog, Postgres.EnvironmentLog>>,
  Assert<Equal<Sqlite.AuditEntry, Postgres.AuditEntry>>,
];
