import { createServer, type Server } from 'node:http';
import type { LiveFeed } from '../live-view/live-feed.js';
import type { CallStats } from './call-stats.js';

export interface StatsServerOptions {
  readonly stats: CallStats;
  readonly port: number;
  /** The address to listen on (default: 0.0.0.0, every interface). */
  readonly host?: string;
  /** With a feed, the live view at / (events at /events). */
  readonly live?: LiveFeed;
  /** Called once listening, with the port (the one picked when `port` is 0). */
  readonly onListening: (port: number) => void;
}

/**
 * Serves the client's counters: JSON at /stats, Prometheus text at /metrics,
 * liveness at /healthz, and with a feed the live view at / (events at /events).
 */
export function startStatsServer({ stats, port, host = '0.0.0.0', live, onListening }: StatsServerOptions): Server {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (live?.handle(request, response)) return;
    if (path === '/stats') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats.snapshot()));
    } else if (path === '/metrics') {
      stats.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': stats.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`try ${live ? '/ (live view), ' : ''}/stats, /metrics or /healthz\n`);
    }
  });
  server.listen(port, host, () => {
    const address = server.address();
    onListening(typeof address === 'object' && address ? address.port : port);
  });
  return server;
}
