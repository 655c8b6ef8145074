import { realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseContextUrl } from "./context-url";

/**
 * Which context URLs an environment may be cloned from. Remote repositories (https, http,
 * ssh, git, and scp-like `user@host:path`) always; a folder on the server's own disk
 * (`file://…` or a path) only under the directories the operator lists
 * (ONA_LOCAL_REPOSITORIES), and never inside the data directory, so that a member cannot
 * clone the server's checkout, its database folder or another member's environment. Every
 * other form git accepts (`ext::`, `fd::` and any `<helper>::` transport) is refused: they
 * run programs or read descriptors of the runner.
 */
export interface RepositorySourcePolicy {
  /** Absolute folders under which local repositories may be cloned. Empty: none may. */
  localRepositories: readonly string[];
  /** Folders never cloned from, even when under an allowed one (the data directory). */
  forbidden: readonly string[];
}

export type RepositorySource =
  | { kind: "remote"; url: string; branch: string | null }
  /** `path` is absolute and has every link resolved; it is what git is given. */
  | { kind: "local"; path: string; branch: string | null };

export class RepositorySourceRefused extends Error {
  override name = "RepositorySourceRefused";
}

const REMOTE_SCHEMES = new Set(["https", "http", "ssh", "git", "git+ssh", "ssh+git"]);

/** What the context URL names, checked against the policy; throws RepositorySourceRefused with what to do instead. */
export function resolveRepositorySource(contextUrl: string, policy: RepositorySourcePolicy, options: { resolveLinks: boolean }): RepositorySource {
  const { url, branch } = parseContextUrl(contextUrl);
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) {
    throw new RepositorySourceRefused(`the git transport "${url.slice(0, url.indexOf("::"))}::" is not allowed; use an https://, ssh:// or git:// URL`);
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "file") {
    if (REMOTE_SCHEMES.has(scheme)) return { kind: "remote", url, branch };
    throw new RepositorySourceRefused(`"${scheme}://" URLs are not supported; use an https://, ssh:// or git:// URL`);
  }
  // git reads `host:path` as scp-like ssh when no slash comes before the first colon.
  const colon = url.indexOf(":");
  const slash = url.indexOf("/");
  if (scheme === undefined && colon > 0 && (slash === -1 || colon < slash)) return { kind: "remote", url, branch };

  let path: string;
  try {
    path = scheme === "file" ? fileURLToPath(url) : url;
  } catch {
    throw new RepositorySourceRefused(`"${url}" is not a valid file:// URL; write it as file:///absolute/path`);
  }
  if (!isAbsolute(path)) {
    throw new RepositorySourceRefused(`"${url}" is a relative path; give the repository's absolute path (file:///path/to/repo)`);
  }
  const allowedHint =
    policy.localRepositories.length === 0
      ? "this server clones no folders of its own disk (an administrator can allow some with ONA_LOCAL_REPOSITORIES)"
      : `folders of the server's disk can be cloned only from under ${policy.localRepositories.join(", ")}`;
  const real = options.resolveLinks ? resolveExisting(resolve(path)) : resolve(path);
  const inside = (parent: string): boolean => isInside(real, parent, options.resolveLinks);
  if (!policy.localRepositories.some(inside) || policy.forbidden.some(inside)) {
    throw new RepositorySourceRefused(`"${url}" cannot be cloned: ${allowedHint}`);
  }
  return { kind: "local", path: real, branch };
}

/** realpath of the part that exists, the rest appended: a missing repository still gets git's own "does not exist". */
function resolveExisting(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    const parent = dirname(path);
    return parent === path ? path : join(resolveExisting(parent), basename(path));
  }
}

function isInside(path: string, parent: string, resolveLinks: boolean): boolean {
  let base = resolve(parent);
  if (resolveLinks) {
    try {
      base = realpathSync(base);
    } catch {
      return false;
    }
  }
  const rel = relative(base, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}
