/** Labels that make a container a chaos target, and say what it is. */
export const CHAOS_TARGET_LABEL = 'grpc-consul-lab.chaos-target';
export const ROLE_LABEL = 'grpc-consul-lab.role';
/** PROFILE=multi-dc: the Consul datacenter a container belongs to (dc1, dc2); absent elsewhere. */
export const DATACENTER_LABEL = 'grpc-consul-lab.datacenter';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
/** Put by `docker stack deploy` on every task container of a stack. */
export const STACK_NAMESPACE_LABEL = 'com.docker.stack.namespace';
export const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.name';

/** Which containers a run may touch: those carrying the target label AND this one. */
export interface TargetScope {
  readonly label: string;
  readonly value: string;
}

export const composeScope = (project: string): TargetScope => ({ label: COMPOSE_PROJECT_LABEL, value: project });
export const stackScope = (stack: string): TargetScope => ({ label: STACK_NAMESPACE_LABEL, value: stack });
export const isSwarmScope = (scope: TargetScope): boolean => scope.label === STACK_NAMESPACE_LABEL;

export function isInScope(labels: Readonly<Record<string, string>> | undefined, scope: TargetScope): boolean {
  if (labels?.[CHAOS_TARGET_LABEL] !== 'true' || labels[scope.label] !== scope.value) return false;
  // A Swarm task may carry compose labels (inherited from an image compose built): never a compose target.
  return isSwarmScope(scope) || labels[STACK_NAMESPACE_LABEL] === undefined;
}
