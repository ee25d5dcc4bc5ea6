/** Labels that make a container a chaos target, and say what it is. */
export const CHAOS_TARGET_LABEL = 'grpc-consul-lab.chaos-target';
export const ROLE_LABEL = 'grpc-consul-lab.role';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** Which containers a run may touch: those carrying the target label AND this one. */
export interface TargetScope {
  readonly label: string;
  readonly value: string;
}

export const composeScope = (project: string): TargetScope => ({ label: COMPOSE_PROJECT_LABEL, value: project });

export function isInScope(labels: Readonly<Record<string, string>> | undefined, scope: TargetScope): boolean {
  return labels?.[CHAOS_TARGET_LABEL] === 'true' && labels[scope.label] === scope.value;
}
