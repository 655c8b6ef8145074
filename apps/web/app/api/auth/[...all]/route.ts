import { getOnaApi } from "@ona/api/registry";

// better-auth's routes (sign-up, sign-in, sign-out, session), on the instance server.ts created.
export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const handle = (request: Request) => getOnaApi().auth.handler(request);
export { handle as GET, handle as POST };
