export { default } from "@ona/eslint-config";
