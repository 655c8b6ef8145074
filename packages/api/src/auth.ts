import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import type { Db, DatabaseProvider } from "@ona/db";
import type { ApiConfig } from "./deps";
import { CLIENT_ADDRESS_HEADER } from "./request-origin";

export const MIN_PASSWORD_LENGTH = 8;

/**
 * Accounts, passwords and sessions are better-auth's: email + password, sessions in cookies.
 * The first account created becomes the admin; later ones are members.
 */
export function createAuth(db: Db, provider: DatabaseProvider, config: ApiConfig) {
  return betterAuth({
    appName: "Ona",
    baseURL: config.publicUrl,
    basePath: "/api/auth",
    // Derived, not the token key itself: the two secrets serve different purposes.
    secret: `better-auth:${config.serverSecret}`,
    trustedOrigins: [config.publicUrl, ...config.trustedOrigins],
    database: prismaAdapter(db, { provider }),
    emailAndPassword: { enabled: true, minPasswordLength: MIN_PASSWORD_LENGTH, maxPasswordLength: 128, autoSignIn: true },
    user: {
      additionalFields: {
        role: { type: "string", required: false, defaultValue: "member", input: false },
        active: { type: "boolean", required: false, defaultValue: true, input: false },
      },
    },
    session: { cookieCache: { enabled: false } },
    rateLimit: {
      enabled: true,
      window: 60,
      max: 300,
      customRules: { "/sign-in/email": { window: 60, max: 10 }, "/sign-up/email": { window: 60, max: 10 } },
    },
    advanced: {
      // The server resolves the client address once (request-origin.ts) and hands it over in this header.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
      useSecureCookies: config.publicUrl.startsWith("https://"),
    },
    telemetry: { enabled: false },
    databaseHooks: {
      user: {
        create: {
          before: async (user) => {
            const existing = await db.user.count();
            return { data: { ...user, role: existing === 0 ? "admin" : "member" } };
          },
        },
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
