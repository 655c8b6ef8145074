/** A clock tests can move: expiry and throttling are tested by moving time, not by waiting. */
export interface TestClock {
  now(): Date;
  advance(ms: number): void;
  /** Stops the clock at `at` (advance moves it from there), for what must happen at an exact moment. */
  freezeAt(at: Date): void;
  reset(): void;
}

export function createTestClock(): TestClock {
  let offset = 0;
  let frozenAt: number | null = null;
  return {
    now: () => new Date((frozenAt ?? Date.now()) + offset),
    advance: (ms) => {
      offset += ms;
    },
    freezeAt: (at) => {
      frozenAt = at.getTime();
      offset = 0;
    },
    reset: () => {
      offset = 0;
      frozenAt = null;
    },
  };
}
