/** Helpers for integration tests against a real Consul: `@grpc-consul-lab/consul-discovery/testing`. */
export { ConsulDevAgent, type ConsulDevAgentOptions, freePort } from './consul-dev-agent.js';
export { CountingProxy } from './counting-proxy.js';
export { eventually } from './eventually.js';
