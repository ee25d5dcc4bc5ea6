import type { ProxySpec } from './toxiproxy-api.js';

/**
 * Toxiproxy in front of an instance without changing its address: in the
 * instance's network namespace, connections from outside to `port` are
 * redirected to Toxiproxy's `proxyPort`, which forwards to the instance on
 * loopback (README.md). These are the commands, each an argv, for whatever
 * runs them in that namespace (`ip netns exec`, the netfault helper).
 */
export interface Redirect {
  /** The instance's port, the one its address in Consul names. */
  readonly port: number;
  /** Where Toxiproxy's proxy listens in the same namespace. */
  readonly proxyPort: number;
}

/** The proxy to create in the namespace's Toxiproxy: every address on proxyPort, to the instance on loopback. */
export function proxyFor(name: string, redirect: Redirect): ProxySpec {
  return { name, listen: `0.0.0.0:${redirect.proxyPort}`, upstream: `127.0.0.1:${redirect.port}` };
}

/**
 * The nat rule: `-A` adds it, `-C` exits 0 when it is there, `-D` deletes it.
 * PREROUTING only: the namespace's own loopback connections (Toxiproxy's
 * upstream, the container's healthcheck) do not pass it and stay direct.
 */
export function redirectRule(operation: '-A' | '-C' | '-D', redirect: Redirect): string[] {
  return [
    'iptables',
    '-w',
    '-t',
    'nat',
    operation,
    'PREROUTING',
    '-p',
    'tcp',
    '--dport',
    String(redirect.port),
    '-j',
    'REDIRECT',
    '--to-ports',
    String(redirect.proxyPort),
  ];
}

/**
 * Resets the instance's established connections on `port` (a RST to each
 * peer): conntrack keeps a connection on the path its first packet took, so
 * after the rule the connections already open would go on bypassing the
 * proxy until they close, and a gRPC client's may never close.
 */
export function resetEstablished(port: number): string[] {
  return ['ss', '-K', '-tn', 'state', 'established', `( sport = :${port} )`];
}
