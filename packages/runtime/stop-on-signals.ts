/**
 * SIGTERM or SIGINT runs `stop`, then the program exits 0; another signal
 * while it runs exits 130 at once (after `onSecondSignal`, when given).
 */
export function stopOnSignals({
  stop,
  onSecondSignal,
}: {
  readonly stop: (signal: NodeJS.Signals) => Promise<void>;
  readonly onSecondSignal?: (signal: NodeJS.Signals) => void;
}): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      onSecondSignal?.(signal);
      process.exit(130);
    }
    stopping = true;
    void stop(signal).then(() => process.exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
