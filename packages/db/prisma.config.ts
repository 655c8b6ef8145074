import { defineConfig } from "prisma/config";

// Only `prisma generate` runs here (see README.md); the URL is never used to connect.
export default defineConfig({
  datasource: { url: process.env.DATABASE_URL ?? "file:./dev.db" },
});
