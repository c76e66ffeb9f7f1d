import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/**
 * The one dynamic-config file for every engine: the compose file mounts it into the server, the
 * local server reads it (scripts/temporalServer.ts), the dev server gets it as flags.
 */
export const DYNAMIC_CONFIG_FILE = path.resolve(__dirname, '..', 'deploy', 'temporal-dynamicconfig.yaml');

/** The file as `--dynamic-config-value` flags: the dev server reads no file. */
export function dynamicConfigFlags(file = DYNAMIC_CONFIG_FILE): string[] {
  const parsed = YAML.parse(readFileSync(file, 'utf8')) as Record<string, { value: unknown; constraints?: unknown }[]>;
  const flags: string[] = [];
  for (const [key, entries] of Object.entries(parsed)) {
    if (entries.length !== 1 || entries[0]!.constraints !== undefined) {
      throw new Error(`${file}: ${key} needs one value without constraints to serve the dev server too`);
    }
    flags.push('--dynamic-config-value', `${key}=${JSON.stringify(entries[0]!.value)}`);
  }
  return flags;
}
