import type { Express } from 'express';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * Every route the app serves, as `METHOD /path` with OpenAPI's `{param}` for Express's `:param`,
 * found by walking the router stack (the app's own and every router mounted in it).
 */
export function servedRoutes(app: Express): string[] {
  const found = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) {
          for (const path of paths) found.add(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...found].sort();
}

/**
 * Run as a script (`node --import tsx test/helpers/routes.ts`): prints the routes of the app
 * `createApp` builds, as JSON. Jest cannot load the app itself (some of its packages are ES modules).
 */
async function main() {
  const [{ createApp }, { loadConfig }, { createDb }, { createLogger }, { SecretBox }] = await Promise.all([
    import('../../api/app'),
    import('../../lib/config'),
    import('../../lib/db'),
    import('../../lib/logger'),
    import('../../lib/secretBox'),
  ]);
  const config = loadConfig();
  // Knex connects lazily and nothing here queries; no Temporal call is made.
  const db = createDb(config.databaseUrl);
  const app = createApp({
    db,
    temporal: {} as never,
    secrets: new SecretBox(config.tokenKeys),
    config,
    logger: createLogger('routes', 'silent'),
  });
  process.stdout.write(JSON.stringify(servedRoutes(app)));
  await db.destroy();
}

if (require.main === module) void main();
