"use client";

import { useEffect, useState } from "react";

/**
 * The current time for relative times ("5 minutes ago", "expires in 29 days"): read on every
 * render, so rows that arrive later are measured against the same moment they were made in,
 * and re-rendered every `intervalMs` so the words stay true while the page stays open.
 */
export function useNow(intervalMs = 30_000): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((tick) => tick + 1), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return Date.now();
}
