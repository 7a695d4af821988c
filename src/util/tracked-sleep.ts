/**
 * A sleep whose timer is kept in `timers`, so an owner that is disposed can clear every wait it
 * started (a module reset must not leave reconnect or retry timers behind).
 */
export function trackedSleep(timers: Set<ReturnType<typeof setTimeout>>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    timers.add(t);
  });
}
