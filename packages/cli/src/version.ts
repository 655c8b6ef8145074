declare const __ONA_VERSION__: string | undefined;

/** The CLI's version, written in by the bundler (scripts/build.mjs); "0.0.0-dev" when run from source. */
export const VERSION = typeof __ONA_VERSION__ === "string" ? __ONA_VERSION__ : "0.0.0-dev";
