import { z } from 'zod';
import { pollUntil } from '../../packages/runtime/poll.js';
import type { TargetContainer } from '../docker/docker-driver.js';
import { noToxiproxy, throughToxiproxy } from '../engine/read-back.js';
import { duration } from '../scenario/duration.js';
import { proxyFor, type Redirect } from '../toxiproxy/redirect.js';
import { ToxiproxyApi } from '../toxiproxy/toxiproxy-api.js';
import { bandwidth, blackhole, latency, resetPeer, type Toxic } from '../toxiproxy/toxics.js';
import { lastsItsDuration } from './action-fields.js';
import { preferredConsulServer } from './consul-servers.js';
import type { FaultKind, StepContext } from './fault-kind.js';
import { boundedInstanceSchema, holdThenAct, type InstanceFault, oneInstanceKind } from './one-instance.js';

/**
 * latency, bandwidth, reset-peer and blackhole: the connections from outside
 * to one instance (`on: instance`, drawn as `target` says) or to the Consul
 * server of the preferred datacenter (`on: consul`, its HTTPS API: the
 * client's watches, the instances' registrations and heartbeats) sent
 * through a Toxiproxy in its own network namespace for `duration`, with one
 * toxic (chaos/toxiproxy/README.md). Its address, its process and its
 * registration stay as they are; what reaches it takes the toxic (for an
 * instance, Consul's gRPC check too). Undone by removing the REDIRECT rule
 * and the sidecar: the connections through the proxy close and the callers
 * reconnect directly.
 */

/** The proxy's name in the sidecar, and the port it listens on in the namespace (next to the API's 8474). */
const PROXY_NAME = 'instance';
const PROXY_PORT = 8475;
/** The port the lab's Consul servers serve their HTTPS API on (docker-compose.yml, consul/*.hcl). */
const CONSUL_HTTPS_PORT = 8501;
/** A fresh sidecar's API answers within a second; more is a sidecar that did not start. */
const SIDECAR_STARTS_WITHIN_MS = 10_000;

const DELAY = 'a delay from 1ms to 1m, such as "200ms"';
const DELAY_JITTER = 'a spread of the delay from 0ms up to the delay itself, such as "50ms"';
const RATE = 'a rate in KB/s from 1 to 1000000, such as 5';
const RESET_AFTER = 'how long after its start a connection is reset, from 0ms to 1m, such as "0ms"';

/** What the toxic is put in front of. */
const on = z.enum(['instance', 'consul']).default('instance');

const latencySchema = boundedInstanceSchema('latency', {
  on,
  delay: duration.pipe(z.number().min(1, DELAY).max(60_000, DELAY)).prefault('200ms'),
  delayJitter: duration.pipe(z.number().max(60_000, DELAY_JITTER)).prefault('0ms'),
}).refine((action) => action.delayJitter <= action.delay, { message: DELAY_JITTER, path: ['delayJitter'] });

const bandwidthSchema = boundedInstanceSchema('bandwidth', {
  on,
  rate: z.number({ error: RATE }).int(RATE).min(1, RATE).max(1_000_000, RATE).default(5),
});

const resetPeerSchema = boundedInstanceSchema('reset-peer', {
  on,
  after: duration.pipe(z.number().max(60_000, RESET_AFTER)).prefault('0ms'),
});

const blackholeSchema = boundedInstanceSchema('blackhole', { on });

/**
 * Puts the toxic in front of the victim: the sidecar, its proxy to the
 * instance on loopback, the toxic, then the redirect (last, so no caller
 * passes the proxy before the toxic is on it). The undo, registered before
 * any of it, takes away whatever of it is there.
 */
function throughToxic(victim: TargetContainer, port: number, toxic: Toxic, { driver }: StepContext, what: string): InstanceFault {
  const redirect: Redirect = { port, proxyPort: PROXY_PORT };
  let api: ToxiproxyApi | undefined;
  const toxics = async (): Promise<readonly Toxic[]> => (api ? api.toxics(PROXY_NAME) : []);
  return {
    act: async () => {
      api = new ToxiproxyApi(await driver.startToxiproxy(victim));
      await answering(api);
      await api.createProxy(proxyFor(PROXY_NAME, redirect));
      await api.addToxic(PROXY_NAME, toxic);
      await driver.redirectToProxy(victim, redirect);
    },
    detail: `${what} on ${victim.name} (${victim.ip}:${port}), through Toxiproxy in its namespace`,
    proof: throughToxiproxy(driver, victim, redirect, toxics, toxic),
    undo: {
      description: `take ${victim.name}'s ${toxic.type} toxic, its redirect and its Toxiproxy away`,
      run: async () => {
        // The rule first: new connections go direct; removing the sidecar then closes the ones through it.
        await driver.removeRedirect(victim, redirect);
        await driver.removeToxiproxy(victim);
      },
      proof: noToxiproxy(driver, victim, redirect),
    },
  };
}

/** Waits for a just-started sidecar's API; its last error when it never answers. */
async function answering(api: ToxiproxyApi): Promise<void> {
  let lastError: unknown;
  const answered = await pollUntil(
    () =>
      api.version().catch((error: unknown) => {
        lastError = error;
        return undefined;
      }),
    { timeoutMs: SIDECAR_STARTS_WITHIN_MS, everyMs: 100 },
  );
  if (answered === undefined) throw lastError;
}

// Toxiproxy's address is the victim's on its network: the runner reaches it
// from the host over a Compose bridge, not over a Swarm overlay.
const ON_COMPOSE = { compose: true, swarm: false } as const;

type NetworkSchema = typeof latencySchema | typeof bandwidthSchema | typeof resetPeerSchema | typeof blackholeSchema;

/**
 * A network toxic as a fault kind: on a drawn instance through
 * faultOneInstance (its blast radius, its hold), or on the Consul server of
 * the preferred datacenter, held the same way.
 */
function networkToxicKind<Schema extends NetworkSchema>(
  schema: Schema,
  own: {
    readonly describe: (action: z.output<Schema>, victim: string) => string;
    readonly toxicOf: (action: z.output<Schema>) => Toxic;
    readonly what: (action: z.output<Schema>) => string;
  },
): FaultKind<Schema> {
  const describe = (action: z.output<Schema>): string =>
    own.describe(action, action.on === 'consul' ? 'the Consul server' : `${action.target} instance`);
  const onInstance = oneInstanceKind(schema, {
    describe,
    lastsMs: lastsItsDuration,
    runsOn: ON_COMPOSE,
    faultOn: (victim, { action }, context) => throughToxic(victim, victim.port, own.toxicOf(action), context, own.what(action)),
  });
  return {
    ...onInstance,
    // On Consul nothing is drawn: the preferred datacenter's server is the one.
    draws: (action) => (action.on === 'instance' ? 'hello instance' : undefined),
    apply: async (step, context) => {
      if (step.action.on === 'instance') return onInstance.apply(step, context);
      const server = await preferredConsulServer(context);
      const fault = throughToxic(server, CONSUL_HTTPS_PORT, own.toxicOf(step.action), context, own.what(step.action));
      return holdThenAct(context, server, server.name, fault);
    },
  };
}

export const latencyFault = networkToxicKind(latencySchema, {
  describe: (action, victim) =>
    `delay ${victim}'s answers by ${action.delay} ms${action.delayJitter > 0 ? ` ± ${action.delayJitter} ms` : ''} on the wire for ${action.duration} ms`,
  toxicOf: (action) => latency(action.delay, action.delayJitter),
  what: (action) => `answers ${action.delay} ms ± ${action.delayJitter} ms late`,
});

export const bandwidthFault = networkToxicKind(bandwidthSchema, {
  describe: (action, victim) => `thin ${victim}'s answers to ${action.rate} KB/s a connection for ${action.duration} ms`,
  toxicOf: (action) => bandwidth(action.rate),
  what: (action) => `answers at ${action.rate} KB/s`,
});

export const resetPeerFault = networkToxicKind(resetPeerSchema, {
  describe: (action, victim) => `reset ${victim}'s connections ${action.after} ms after they open for ${action.duration} ms`,
  toxicOf: (action) => resetPeer(action.after),
  what: (action) => `connections reset ${action.after} ms after they open`,
});

export const blackholeFault = networkToxicKind(blackholeSchema, {
  describe: (action, victim) => `black-hole ${victim} (connections accepted, nothing answered) for ${action.duration} ms`,
  toxicOf: () => blackhole(),
  what: () => 'connections accepted and nothing answered',
});
