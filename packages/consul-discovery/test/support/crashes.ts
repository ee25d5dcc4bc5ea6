/**
 * Records what would crash a process, uncaught exceptions and unhandled
 * rejections, from start() until stop(); a test asserts there were none.
 * node:test reports them too, but against whichever test runs when they
 * happen, and without saying that nothing should have thrown at all.
 */
export function recordCrashes(): { readonly crashes: unknown[]; stop(): void } {
  const crashes: unknown[] = [];
  const record = (error: unknown): void => {
    crashes.push(error instanceof Error ? error.message : error);
  };
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return {
    crashes,
    stop() {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    },
  };
}
