import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { calsyncSearchAttributeNames, calsyncSearchAttributeTypes } from '../lib/searchAttributes';
import { DYNAMIC_CONFIG_FILE } from '../scripts/dynamicConfig';
import { ROOT, devServerArgs } from '../scripts/stack';
import {
  DEFAULT_HISTORY_SHARDS,
  STANDARD_PORTS,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_SQL_PLUGIN,
} from '../scripts/temporalServer';

/**
 * No Docker engine runs here, so docker-compose.yml is held to what the scripts run instead: the
 * same Temporal release and persistence plugin, the one dynamic-config file, the namespace and search
 * attributes set up before the API and workers start, and the frontend kept off the host.
 */
interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const temporal = compose.services.temporal!;

describe('docker-compose.yml and the scripts run the same Temporal', () => {
  test('the same server release, persistence plugin and history shards', () => {
    expect(temporal.image).toBe(`temporalio/auto-setup:${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`);
    expect(temporal.environment!.DB).toBe(TEMPORAL_SQL_PLUGIN);
    expect(Number(temporal.environment!.NUM_HISTORY_SHARDS)).toBe(DEFAULT_HISTORY_SHARDS);
  });

  test('the schema is laid down by the SQL tool (auto-setup runs temporal-sql-tool), not skipped', () => {
    expect(temporal.environment!.SKIP_SCHEMA_SETUP ?? 'false').toBe('false');
    expect(temporal.environment!.POSTGRES_SEEDS).toBe('postgres');
  });

  test('the one dynamic-config file: mounted into the server, and every key given to the dev server', () => {
    const target = `/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`;
    const mount = temporal.volumes!.find((v) => v.split(':')[1] === target);
    expect(mount && path.resolve(ROOT, mount.split(':')[0]!)).toBe(DYNAMIC_CONFIG_FILE);
    const args = devServerArgs({ port: 7233, headless: true });
    const file = YAML.parse(readFileSync(DYNAMIC_CONFIG_FILE, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(Object.keys(file).length).toBeGreaterThan(0);
    for (const [key, [entry]] of Object.entries(file)) {
      expect(args).toContain(`${key}=${JSON.stringify(entry!.value)}`);
    }
  });

  test('namespace and search attributes: a set-up step of their own, done before the API and workers start', () => {
    // auto-setup would register `default` with its own retention and seven test attributes of its own,
    // taking SQL visibility's keyword columns: calsync's step does it instead.
    expect(temporal.environment!.SKIP_DEFAULT_NAMESPACE_CREATION).toBe('true');
    expect(temporal.environment!.SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES).toBe('true');
    const setup = compose.services['temporal-setup']!;
    expect(setup.command).toEqual(['node', 'dist/scripts/temporalNamespace.js']);
    expect(setup.environment!.TEMPORAL_ADDRESS).toBe(`temporal:${STANDARD_PORTS.frontend}`);
    for (const name of ['api', 'worker']) {
      expect(compose.services[name]!.depends_on!['temporal-setup']).toEqual({
        condition: 'service_completed_successfully',
      });
    }
    // The dev server gets the very same attributes as flags.
    const args = devServerArgs({ port: 7233, headless: true });
    for (const name of calsyncSearchAttributeNames) {
      expect(args).toContain(`${name}=${calsyncSearchAttributeTypes[name]}`);
    }
  });

  test('the frontend is reachable on the compose network only, never published to the host', () => {
    expect(temporal.ports).toBeUndefined();
    expect(temporal.expose).toEqual([String(STANDARD_PORTS.frontend)]);
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) expect(`${name} ${port}`).not.toMatch(/:7233$/);
    }
  });

  test("calsync's services run the production build: files `npm run build` makes from sources it compiles", () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/api\/main\.js"\]$/m);
    const built = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const compiled = (source: string) => built.include.some((p) => source === p || source.startsWith(`${p}/`));
    const ours = Object.entries(compose.services).filter(([, service]) => service.build === '.');
    expect(ours.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'temporal-setup', 'worker']);
    for (const [name, service] of ours) {
      const [node, file, ...rest] = service.command!;
      expect([name, node, rest]).toEqual([name, 'node', []]);
      const source = file!.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(`${name}: ${file}`).toMatch(/^[\w-]+: dist\/.+\.js$/);
      expect(existsSync(path.join(ROOT, source)) && compiled(source)).toBe(true);
    }
  });
});
