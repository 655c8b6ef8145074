import { shortPhase, type EnvironmentPhase } from "@ona/contracts";

export const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

/** In the reader's own locale (the browser's); every date here is rendered in the browser only. */
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const longDateFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

export const formatDate = (iso: string | Date) => dateFormat.format(new Date(iso));
export const formatLongDate = (iso: string | Date) => longDateFormat.format(new Date(iso));
export const formatDateTime = (iso: string | Date) => dateTimeFormat.format(new Date(iso));
/** "Nov 29, 14:03:07": compact, for dense tables (the full date goes in a tooltip). */
export const formatShortDateTime = (iso: string | Date) => shortDateTimeFormat.format(new Date(iso));
export const formatTime = (iso: string | Date) => timeFormat.format(new Date(iso));

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

/** "just now", "5 minutes ago", "3 days ago". */
export function timeAgo(iso: string, now: number): string {
  const elapsed = now - new Date(iso).getTime();
  if (elapsed < 45_000) return "just now";
  if (elapsed < HOUR_MS) return `${plural(Math.max(1, Math.round(elapsed / MINUTE_MS)), "minute")} ago`;
  if (elapsed < DAY_MS) return `${plural(Math.round(elapsed / HOUR_MS), "hour")} ago`;
  if (elapsed < 30 * DAY_MS) return `${plural(Math.round(elapsed / DAY_MS), "day")} ago`;
  return `on ${formatDate(iso)}`;
}

export interface Expiry {
  /** "expires in 29 days", "expires in 5 hours", "expired 2 days ago". */
  text: string;
  /** Expires within seven days (and has not yet). */
  soon: boolean;
  expired: boolean;
}

export function expiryOf(expiresAt: string, now: number): Expiry {
  const remaining = new Date(expiresAt).getTime() - now;
  if (remaining <= 0) {
    const ago = -remaining;
    return { text: ago < DAY_MS ? "expired today" : `expired ${plural(Math.floor(ago / DAY_MS), "day")} ago`, soon: false, expired: true };
  }
  const soon = remaining <= 7 * DAY_MS;
  if (remaining < DAY_MS) {
    const hours = Math.ceil(remaining / HOUR_MS);
    return { text: `expires in ${plural(hours, "hour")}`, soon, expired: false };
  }
  return { text: `expires in ${plural(Math.round(remaining / DAY_MS), "day")}`, soon, expired: false };
}

/** "Running", "Stopped", "Creating". */
export function phaseLabel(phase: EnvironmentPhase): string {
  const short = shortPhase(phase);
  return short.charAt(0).toUpperCase() + short.slice(1);
}

const SETTLED: ReadonlySet<EnvironmentPhase> = new Set([
  "ENVIRONMENT_PHASE_RUNNING",
  "ENVIRONMENT_PHASE_STOPPED",
  "ENVIRONMENT_PHASE_DELETED",
]);

/** Whether an environment is on its way somewhere (so the page should look again soon). */
export function isInTransition(environment: {
  spec: { desiredPhase: EnvironmentPhase };
  status: { phase: EnvironmentPhase; failureMessage: string[] };
}): boolean {
  if (environment.status.failureMessage.length > 0) return false;
  return environment.status.phase !== environment.spec.desiredPhase || !SETTLED.has(environment.status.phase);
}

/** The repository part of a context URL, for a compact column: `github.com/org/repo` or the path. */
export function repositoryOf(url: string): string {
  return url.replace(/^[a-z+]+:\/\//i, "").replace(/\.git$/, "").replace(/\/+$/, "");
}
