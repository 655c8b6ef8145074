import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { adminCreateToken, adminRevokeToken, createAuth, listRunners, createUserWithPassword, listUsers, ServiceError } from "@ona/api";
import { CreateTokenInput, User } from "@ona/contracts";
import { migrate, openDatabase } from "@ona/db";
import { ConfigError, loadConfig } from "./config";
import { migrationsDir } from "./system";

/**
 * `pnpm ona-admin`: operators' and automation's way in, against the same database and
 * configuration the server uses. Data goes to stdout, messages to stderr.
 */
async function withServices<T>(work: (deps: Awaited<ReturnType<typeof open>>) => Promise<T>): Promise<T> {
  const deps = await open();
  try {
    return await work(deps);
  } finally {
    await deps.database.close();
  }
}

async function open() {
  const config = loadConfig();
  await migrate(config.databaseUrl, { migrationsDir: migrationsDir() });
  const database = await openDatabase(config.databaseUrl);
  const deps = {
    db: database.db,
    clock: () => new Date(),
    config: config.api,
  };
  const auth = createAuth(database.db, database.provider, config.api);
  return { database, deps, auth };
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write("Password (input is shown; pipe it in to hide it): ");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

const program = new Command("ona-admin")
  .description("Administer an Ona server from its own machine (same database and configuration as the server)")
  .showHelpAfterError()
  .exitOverride();

const user = program.command("user").description("manage user accounts");
user
  .command("create")
  .description("create an account; the password is read from stdin")
  .requiredOption("--email <email>", "the user's email address")
  .requiredOption("--name <name>", "the user's display name")
  .option("--admin", "make the user an administrator", false)
  .action(async (options: { email: string; name: string; admin: boolean }) => {
    const password = await readStdin();
    const created = await withServices(({ deps, auth }) =>
      createUserWithPassword(deps, auth, {
        email: options.email,
        name: options.name,
        password,
        ...(options.admin ? { role: "admin" as const } : {}),
      }),
    );
    process.stdout.write(`${JSON.stringify(User.parse(created))}\n`);
  });
user
  .command("list")
  .description("list every account")
  .action(async () => {
    const users = await withServices(({ deps }) => listUsers(deps));
    for (const u of users) process.stdout.write(`${u.id}\t${u.email}\t${u.name}\t${u.role}\n`);
  });

const token = program.command("token").description("manage personal access tokens");
token
  .command("create")
  .description("create a token for a user and print only the token (for bootstrapping automation)")
  .requiredOption("--email <email>", "whose token it is")
  .requiredOption("--description <text>", "what the token is for")
  .addOption(
    new Option("--expires-in <days>", "days until it expires").choices(["30", "60", "90"]).default("30"),
  )
  .addOption(new Option("--access-level <level>", "what it may do").choices(["read-only", "read-write"]).default("read-only"))
  .action(async (options: { email: string; description: string; expiresIn: string; accessLevel: string }) => {
    const parsed = CreateTokenInput.safeParse({
      description: options.description,
      expiresInDays: Number(options.expiresIn),
      accessLevel: options.accessLevel,
    });
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join("; "));
    const input = parsed.data;
    const created = await withServices(({ deps }) => adminCreateToken(deps, options.email, input));
    process.stdout.write(`${created.secret}\n`);
    process.stderr.write(`created token ${created.token.id} (${created.token.accessLevel}, expires ${created.token.expiresAt})\n`);
  });
token
  .command("revoke <id>")
  .description("revoke a token by id, whoever owns it")
  .action(async (id: string) => {
    const revoked = await withServices(({ deps }) => adminRevokeToken(deps, id));
    process.stderr.write(`token ${revoked.id} is revoked\n`);
  });

const runner = program.command("runner").description("look at the runners that run environments");
runner
  .command("list")
  .description("list the runners, how each isolates environments, and what each cannot do")
  .action(async () => {
    const runners = await withServices(({ deps }) => listRunners(deps));
    for (const r of runners) {
      const seen = r.lastHeartbeatAt === null ? "never seen" : `last seen ${r.lastHeartbeatAt.toISOString()}`;
      process.stdout.write(`${r.id}\t${r.kind}\tisolation: ${r.isolation.mode}\t${seen}\n`);
      for (const property of r.isolation.properties) process.stdout.write(`  ${property}\n`);
      for (const warning of r.isolation.warnings) process.stdout.write(`  warning: ${warning}\n`);
      if (r.isolation.problem !== null) process.stdout.write(`  cannot run environments: ${r.isolation.problem}\n`);
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  if (error instanceof ConfigError || error instanceof ServiceError || error instanceof InvalidArgumentError) {
    console.error(`ona-admin: ${error.message}`);
  } else {
    console.error(`ona-admin: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
