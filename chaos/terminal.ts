/**
 * How a run's lines reach the terminal: each log line with the time of day;
 * the status line rewritten in place on a terminal, and otherwise (CI, a
 * pipe) printed at most every 5 s.
 */
export interface TerminalLines {
  log(line: string): void;
  status(line: string): void;
  /** Wipes the status line (a terminal's), before other output. */
  clearStatus(): void;
}

export function terminalLines(stdout: NodeJS.WriteStream = process.stdout): TerminalLines {
  const tty = stdout.isTTY;
  let lastStatusAt = 0;
  const clearStatus = (): void => {
    if (tty) stdout.write('\r\x1b[2K');
  };
  return {
    clearStatus,
    log: (line) => {
      clearStatus();
      stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    },
    status: (line) => {
      if (tty) stdout.write(`\r\x1b[2K${line}`);
      else if (Date.now() - lastStatusAt >= 5_000) {
        lastStatusAt = Date.now();
        stdout.write(`${line}\n`);
      }
    },
  };
}
