// The package version, read once from package.json (the CLI's --version, the live view's title).
import { readFileSync } from 'node:fs';

function read(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string'
    ? pkg.version
    : '0.0.0';
}

export const VERSION = read();
