import { after, before } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ConsulDevAgent } from '../../src/testing/index.js';
import { EchoClient, type EchoServer, say, startEchoServer } from './echo-server.js';

/**
 * A test file's real Consul dev agent and Echo servers, started before its
 * tests and stopped after them, with the channels its tests made.
 */
export interface AgentFixture {
  readonly consul: ConsulDevAgent;
  readonly servers: readonly EchoServer[];
  /** A client closed when the file's tests are over. */
  client(target: string, options?: grpc.ChannelOptions): InstanceType<typeof EchoClient>;
  /** Closed (or stopped) when the file's tests are over, last added first. */
  cleanup(step: () => Promise<void> | void): void;
}

/**
 * `setUp` runs in the same before() hook, once the agent and servers are up:
 * Node 20 runs a file's top-level before() hooks at once, not in order.
 */
export function agentFixture(serverNames: readonly string[], setUp?: (fixture: AgentFixture) => Promise<void>): AgentFixture {
  let consul: ConsulDevAgent | undefined;
  const servers: EchoServer[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  before(async () => {
    consul = await ConsulDevAgent.start();
    for (const name of serverNames) servers.push(await startEchoServer(name));
    await setUp?.(fixture);
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    for (const server of servers) server.stop();
    await consul?.stop();
  });
  const fixture: AgentFixture = {
    get consul() {
      if (!consul) throw new Error('the Consul agent starts before the first test');
      return consul;
    },
    servers,
    client(target, options = {}) {
      const made = new EchoClient(target, grpc.credentials.createInsecure(), options);
      cleanups.push(() => made.close());
      return made;
    },
    cleanup(step) {
      cleanups.push(step);
    },
  };
  return fixture;
}

/** How many of `n` calls, made one after the other, each server answered (by name). */
export async function answersOf(channel: InstanceType<typeof EchoClient>, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i += 1) {
    const answer = await say(channel);
    counts[answer] = (counts[answer] ?? 0) + 1;
  }
  return counts;
}
