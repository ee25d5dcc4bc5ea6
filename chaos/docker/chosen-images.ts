import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The project's .env (from dist/chaos/docker/, ../../..). */
const PROJECT_ENV = fileURLToPath(new URL('../../../.env', import.meta.url));

/**
 * The images this machine uses, as scripts/ensure-images.sh (make up) records
 * them in .env: NODE_IMAGE, CONSUL_IMAGE, NETFAULT_IMAGE. Their names are made
 * in scripts/lib.sh from the pinned versions (versions.env, tools/consul/go.mod),
 * so none is written here. With no .env, it fails saying what to run.
 */
export function chosenImages(file = PROJECT_ENV): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`no ${file}: run make up first (scripts/ensure-images.sh writes it)`);
  }
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line.trim()))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] as string, match[2] as string]),
  );
}

/** The partition helper's image: NETFAULT_IMAGE from the environment, else from .env. */
export function netfaultImage(env: NodeJS.ProcessEnv = process.env, file = PROJECT_ENV): string {
  const image = env.NETFAULT_IMAGE || chosenImages(file).NETFAULT_IMAGE;
  if (!image) throw new Error(`${file} names no NETFAULT_IMAGE: run make up again (scripts/ensure-images.sh writes it)`);
  return image;
}
