export * from "./common";
export * from "./errors";
export * from "./token-format";
export * from "./token";
export * from "./identity";
export * from "./environment";
export * from "./audit";
export * from "./health";
