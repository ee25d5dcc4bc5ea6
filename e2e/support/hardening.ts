import assert from 'node:assert/strict';
import type { ContainerInspectInfo } from 'dockerode';

/**
 * What every container of the lab's stacks must be, whatever the profile: a
 * user that is not root, a read-only root filesystem, no capabilities, no
 * privilege gain, memory and pid limits, ports published on 127.0.0.1 only.
 */
export function assertHardened(info: ContainerInspectInfo): void {
  const name = info.Name.replace(/^\//, '');
  const host = info.HostConfig;
  assert.ok(info.Config.User !== '' && !/^(root|0)(:|$)/.test(info.Config.User), `${name} runs as ${info.Config.User || 'root'}`);
  assert.equal(host.ReadonlyRootfs, true, `${name}: read-only root filesystem`);
  assert.deepEqual(host.CapDrop, ['ALL'], `${name}: every capability dropped`);
  assert.deepEqual(host.CapAdd ?? [], [], `${name}: no capability added`);
  assert.ok(
    host.SecurityOpt?.some((option: string) => /^no-new-privileges(:true)?$/.test(option)),
    `${name}: no-new-privileges (${host.SecurityOpt})`,
  );
  assert.ok((host.Memory ?? 0) > 0, `${name}: a memory limit`);
  assert.ok((host.PidsLimit ?? 0) > 0, `${name}: a pid limit`);
  assert.equal(host.Privileged, false, `${name}: not privileged`);
  for (const [port, bindings] of Object.entries((host.PortBindings ?? {}) as Record<string, { HostIp: string }[] | null>)) {
    for (const binding of bindings ?? [])
      assert.equal(binding.HostIp, '127.0.0.1', `${name} publishes ${port} on ${binding.HostIp || 'every address'}`);
  }
}
