/** Direct calls to a real Consul's HTTP API, to set up and check what tests need. */
export async function consulRequest(address: string, method: string, path: string, body?: unknown, token?: string): Promise<unknown> {
  const response = await fetch(`http://${address}${path}`, {
    method,
    headers: { ...(token && { 'x-consul-token': token }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Registers an instance with a passing TTL check (the test keeps it alive or lets it lapse). */
export async function registerInstance(
  address: string,
  service: string,
  id: string,
  port: number,
  options: { tags?: string[]; token?: string; meta?: Record<string, string> } = {},
): Promise<void> {
  await consulRequest(
    address,
    'PUT',
    '/v1/agent/service/register',
    {
      Name: service,
      ID: id,
      Address: '127.0.0.1',
      Port: port,
      Tags: options.tags ?? [],
      Meta: options.meta ?? {},
      Check: { CheckID: `${id}:ttl`, TTL: '60s', Status: 'passing' },
    },
    options.token,
  );
}

export async function deregisterInstance(address: string, id: string, token?: string): Promise<void> {
  await consulRequest(address, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`, undefined, token);
}

export async function passingIds(address: string, service: string, token?: string): Promise<string[]> {
  const entries = (await consulRequest(address, 'GET', `/v1/health/service/${service}?passing=true`, undefined, token)) as {
    Service: { ID: string };
  }[];
  return entries.map((entry) => entry.Service.ID).sort();
}

/** A token whose only policy is `rules` (HCL), with a secret chosen by the test. */
export async function createToken(address: string, managementToken: string, name: string, rules: string, secret: string): Promise<void> {
  await consulRequest(address, 'PUT', '/v1/acl/policy', { Name: name, Rules: rules }, managementToken);
  await consulRequest(address, 'PUT', '/v1/acl/token', { SecretID: secret, Policies: [{ Name: name }] }, managementToken);
}

/** Agent arguments for ACLs on, default deny, with a known management token. */
export function aclAgentArgs(managementToken: string): string[] {
  return ['-hcl', `acl { enabled = true, default_policy = "deny", tokens { initial_management = "${managementToken}" } }`];
}

export { eventually } from '../../src/testing/index.js';
