/** What to clone: the URL as git takes it, and the branch the context URL names, if any. */
export interface CloneSource {
  url: string;
  branch: string | null;
}

const WEB_URL = /^https?:\/\//i;

/**
 * Splits a context URL into what git clones and the branch to check out:
 * - `<url>#<branch>` (any URL or path; the fragment is never part of a git URL);
 * - a GitHub / Gitea style page `https://host/owner/repo/tree/<branch>` and GitLab's
 *   `https://host/group/repo/-/tree/<branch>` (branch names may contain slashes).
 * Anything else is passed to git unchanged, so every URL git accepts keeps working.
 */
export function parseContextUrl(contextUrl: string): CloneSource {
  const trimmed = contextUrl.trim();
  const hash = trimmed.lastIndexOf("#");
  if (hash > 0) {
    const branch = safeDecode(trimmed.slice(hash + 1));
    const url = trimmed.slice(0, hash);
    return { url, branch: branch === "" ? null : branch };
  }
  if (WEB_URL.test(trimmed)) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      return { url: trimmed, branch: null };
    }
    const match = /^(\/[^/]+\/[^/]+?)(?:\.git)?\/tree\/(.+?)\/?$/.exec(parsed.pathname);
    // GitLab groups nest (group/sub/repo/-/tree/x), so the owner part may have more segments.
    const gitlab = /^(\/.+?)\/-\/tree\/(.+?)\/?$/.exec(parsed.pathname);
    const found = gitlab ?? match;
    if (found?.[1] !== undefined && found[2] !== undefined) {
      parsed.pathname = found[1];
      parsed.search = "";
      return { url: parsed.toString(), branch: safeDecode(found[2]) };
    }
  }
  return { url: trimmed, branch: null };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A branch name git could take for an option or that `git check-ref-format` would refuse. */
export function isAcceptableBranch(branch: string): boolean {
  return (
    branch.length > 0 &&
    branch.length <= 255 &&
    !branch.startsWith("-") &&
    !/[\0-\x20\x7f~^:?*[\\]/.test(branch) &&
    !branch.includes("..") &&
    !branch.includes("@{") &&
    !branch.endsWith(".lock") &&
    !branch.endsWith("/") &&
    !branch.endsWith(".")
  );
}

/**
 * The URL as it may be shown in logs and messages: a password in it, or the lone user part of
 * an http(s) URL (which is how tokens are passed: https://<token>@github.com/…), becomes "***".
 */
export function redactUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i.exec(url);
  if (match?.[1] === undefined || match[2] === undefined) return url;
  const [scheme, userinfo] = [match[1], match[2]];
  const colon = userinfo.indexOf(":");
  let shown: string;
  if (colon >= 0) shown = `${userinfo.slice(0, colon)}:***`;
  else if (/^https?:\/\/$/i.test(scheme)) shown = "***";
  else return url;
  return `${scheme}${shown}@${url.slice(match[0].length)}`;
}
