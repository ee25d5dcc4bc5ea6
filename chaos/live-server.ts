import { createServer, type Server } from 'node:http';
import type { LiveFeed } from '../services/live-view/live-feed.js';

/**
 * Serves a run's live view on 127.0.0.1:`port` and prints its URL; a port
 * that cannot be had is said in one line, and the run goes on without it.
 * Resolves once listening or given up (undefined: port 0, none wanted).
 */
export async function serveLiveView(live: LiveFeed, port: number): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((request, response) => {
    if (!live.handle(request, response)) response.writeHead(404, { 'content-type': 'text/plain' }).end('the live view is at /\n');
  });
  await new Promise<void>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      process.stderr.write(
        `chaos: live view not served: port ${port} ${error.code === 'EADDRINUSE' ? 'is in use (LIVE_PORT=… picks another)' : error.message}\n`,
      );
      resolve();
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      process.stdout.write(`live view: http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}/\n`);
      resolve();
    });
  });
  return server;
}
