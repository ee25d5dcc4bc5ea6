import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const CLIENT_MAIN = fileURLToPath(new URL('../client/main.js', import.meta.url));

/**
 * `make local`'s client, as its own process in a process group of its own
 * (a terminal's Ctrl-C reaches only the supervisor, which stops it), its
 * log lines on this process's output; stats on 127.0.0.1 only.
 */
export function spawnLocalClient({
  consulAddress,
  callRate,
  statsPort,
  logFormat,
}: {
  readonly consulAddress: string;
  readonly callRate: number;
  readonly statsPort: number;
  readonly logFormat: string;
}): ChildProcess {
  return spawn(process.execPath, [CLIENT_MAIN], {
    env: {
      ...process.env,
      CONSUL_HTTP_ADDR: consulAddress,
      CALL_RATE: String(callRate),
      STATS_PORT: String(statsPort),
      STATS_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_FORMAT: logFormat,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
}

/** SIGTERM, and resolves once the process has exited (at once if it already had). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  const exited = child.exitCode === null && child.signalCode === null ? once(child, 'exit') : Promise.resolve();
  child.kill('SIGTERM');
  await exited;
}
