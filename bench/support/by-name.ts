/**
 * The policies and faults a bench run was asked for (`--policy`, `--fault`:
 * substrings of their names, each flag repeatable; none given: all). A flag
 * that matches nothing ends the run with one line naming what there is, exit 2.
 */
export function policiesAndFaults<Policy extends { readonly name: string }, Fault extends { readonly name: string }>(
  all: { readonly policies: readonly Policy[]; readonly faults: readonly Fault[] },
  wanted: { readonly policy: readonly string[]; readonly fault: readonly string[] },
): { policies: Policy[]; faults: Fault[] } {
  const policies = byName(all.policies, wanted.policy);
  const faults = byName(all.faults, wanted.fault);
  if (policies.length === 0 || faults.length === 0) {
    const names = (entries: readonly { readonly name: string }[]): string => entries.map((entry) => `'${entry.name}'`).join(', ');
    console.error(
      `no ${policies.length === 0 ? 'policy' : 'fault'} matches: policies are ${names(all.policies)}; faults ${names(all.faults)}`,
    );
    process.exit(2);
  }
  return { policies, faults };
}

function byName<Entry extends { readonly name: string }>(all: readonly Entry[], wanted: readonly string[]): Entry[] {
  return all.filter((entry) => wanted.length === 0 || wanted.some((part) => entry.name.includes(part)));
}
