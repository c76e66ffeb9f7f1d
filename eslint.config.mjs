// @ts-check
// ESLint flat config. Two jobs: catch promises nobody awaits (everywhere), and keep the layers
// apart (README, "Lint and format"). The layering is written as `no-restricted-imports` patterns
// per folder. ESLint does not merge the options of one rule across config objects (the last
// matching object wins), so every folder below gets its complete list from `restrict(...)`.
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** A relative import that climbs out of the current folder into the top-level folder `dir`. */
const up = (dir) => `^(\\./)?(\\.\\./)+${dir}`;

/** Relative imports of one layer, e.g. `../workflows`, `../../workflows/x`. */
const layer = (dir, message, extra = {}) => ({ regex: `${up(dir)}(/|$)`, caseSensitive: true, message, ...extra });

/** A package and its subpaths (`pg`, `pg/lib/x`), one pattern for the lot. */
const packages = (names, message) => ({
  regex: `^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(/|$)`,
  caseSensitive: true,
  message,
});

/** Client libraries of remote calendar / mail systems: only providers/ may use them. */
const PROVIDER_CLIENTS = [
  'googleapis',
  '@googleapis/calendar',
  'google-auth-library',
  '@microsoft/microsoft-graph-client',
  '@azure/msal-node',
  'tsdav',
  'nodemailer',
];
const providerClients = packages(
  PROVIDER_CLIENTS,
  'Only providers/ talks to a provider client library; go through the provider registry.',
);

/** Everything that does I/O or needs Node: never inside the workflow sandbox. */
const IO_PACKAGES = [
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  'knex',
  'pg',
  'express',
  'express-rate-limit',
  'helmet',
  'pino',
  'pino-http',
  'prom-client',
  ...PROVIDER_CLIENTS,
];

/** Node built-ins, bare and `node:`-prefixed (as in Temporal's samples-typescript config). */
const NODE_BUILTINS = [
  ...new Set([
    ...builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `node:${m}`])),
    'node:sea',
    'node:sqlite',
    'node:test',
    'node:test/reporters',
  ]),
];

/**
 * `@typescript-eslint/no-restricted-imports` with these patterns (and optional exact paths).
 * `allowTypeImports` on a pattern lets `import type` through (types are erased at runtime).
 */
const restrict = (patterns, paths = []) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': ['error', { paths, patterns }],
});

const WORKFLOW_MSG =
  'Workflow code runs in a deterministic sandbox: no I/O, no Node built-ins. Do it in an activity; ' +
  'import activities only with `import type` and call them through proxyActivities.';

/** `../workflows/<name>/client` (the start/signal helpers) and `…/contract` (ids, signals, queries: pure). */
const workflowsExceptClients = (message) => ({
  regex: `${up('workflows')}(?!/([^/]+/)*(client|contract)$)(/|$)`,
  caseSensitive: true,
  allowTypeImports: true,
  message,
});

// ---------------------------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------------------------

export default defineConfig(
  {
    ignores: ['**/node_modules/**', 'data/**', 'dist/**', 'coverage/**', 'test/histories/**', 'run/**'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  js.configs.recommended,
  tseslint.configs.recommended,

  // Plain JS files (jest.config.js, this file): Node globals, no type information.
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },

  // TypeScript: type information from tsconfig.json, for the promise rules.
  {
    files: ['**/*.ts'],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        // Express 5 and event emitters take async callbacks; a Promise where a boolean is
        // tested (`if (promise)`) and spreading a Promise stay errors.
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
    },
  },

  // Light on style: Prettier owns formatting; these rules would only churn the existing code.
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      // Sanitisers strip control characters on purpose (providers/email/invitation.ts).
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
    },
  },

  // Default for every folder not named below (workers/, bin/, scripts/, migrations/):
  // provider client libraries stay inside providers/.
  {
    files: ['**/*.ts'],
    rules: restrict([providerClients]),
  },

  // workflows/: deterministic, sandboxed. The per-workflow client helpers are ordinary code.
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/client.ts'],
    rules: restrict(
      [
        packages(IO_PACKAGES, WORKFLOW_MSG),
        layer('activities', WORKFLOW_MSG, { allowTypeImports: true }),
        layer('providers', WORKFLOW_MSG, { allowTypeImports: true }),
        layer('api', WORKFLOW_MSG, { allowTypeImports: true }),
        layer('workers', WORKFLOW_MSG, { allowTypeImports: true }),
        {
          // A workflow's own client helper pulls @temporalio/client into the sandbox.
          regex: '^\\.{1,2}/(.*/)?client$',
          caseSensitive: true,
          allowTypeImports: true,
          message: 'client.ts helpers are for the API and activities, not for workflow code.',
        },
      ],
      NODE_BUILTINS.map((name) => ({ name, message: WORKFLOW_MSG })),
    ),
  },
  {
    files: ['workflows/**/client.ts'],
    rules: restrict([providerClients, layer('api', 'workflows/ does not depend on the API.')]),
  },

  // lib/: the bottom layer.
  {
    files: ['lib/**/*.ts'],
    rules: restrict([
      providerClients,
      ...['workflows', 'activities', 'providers', 'api', 'workers'].map((dir) =>
        layer(dir, `lib/ is the bottom layer: it imports nothing from ${dir}/ (not even types).`),
      ),
    ]),
  },

  // providers/: adapters of remote systems; know nothing of Temporal's layers or the API.
  {
    files: ['providers/**/*.ts'],
    rules: restrict(
      ['activities', 'api', 'workflows', 'workers'].map((dir) =>
        layer(dir, `providers/ imports nothing from ${dir}/: it depends on lib/ only.`),
      ),
    ),
  },

  // activities/: reach a provider through the registry (a provider's own folder is its business);
  // never the API; workflows only through their client helpers. providers/email/ (the SMTP
  // mailer of client invitations) is not a calendar provider and stays directly importable.
  {
    files: ['activities/**/*.ts'],
    rules: restrict([
      providerClients,
      layer('api', 'activities/ imports nothing from api/.'),
      {
        regex: `${up('providers')}/(?!email/)[^/]+/`,
        caseSensitive: true,
        message: "activities/ reach a provider through providers/registry, not through the provider's own folder.",
      },
      workflowsExceptClients(
        'activities reach workflows through workflows/<name>/client and contract, never workflow code (types may be imported).',
      ),
    ]),
  },

  // api/: talks to Temporal and PostgreSQL, never to a provider.
  {
    files: ['api/**/*.ts'],
    rules: restrict([
      providerClients,
      layer('activities', 'api/ imports nothing from activities/; shared code belongs in lib/.'),
      {
        regex: `${up('providers')}(?!/(registry|types|errors)$)(/|$)`,
        caseSensitive: true,
        message: 'api/ may import only providers/registry, providers/types and providers/errors.',
      },
      workflowsExceptClients(
        'api/ reaches workflows through workflows/<name>/client and contract, never workflow code (types may be imported).',
      ),
    ]),
  },

  // emulators/, test/, bench/ stand in for or drive providers and every layer: no import limits.
  {
    files: ['emulators/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': 'off' },
  },

  prettier,
);
