import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  transpilePackages: ["@ona/contracts", "@ona/api"],
  // `turbo run typecheck` checks the whole app (pages and server) once; checking again here
  // would only double the build time.
  typescript: { ignoreBuildErrors: true },
};

export default config;
