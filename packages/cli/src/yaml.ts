// yaml is CommonJS. Re-exported statically from this module (which output.ts imports on demand) so
// that the bundler's interop provides its named exports; a dynamic import("yaml") in the split
// bundle would see only a default export.
export { stringify } from "yaml";
