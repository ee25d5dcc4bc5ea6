import { readFileSync } from 'node:fs';

// dist/packages/runtime/version.js -> <root>/package.json; the images keep the same layout.
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
