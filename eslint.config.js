// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SERVICES = ['gateway', 'metrics', 'logs', 'traces', 'alerts'];
const TOOLING = ['stack', 'e2e', 'bench'];
const TESTS = ['**/*.test.ts', '**/*.fixtures.ts'];

function restrictImports(files, forbidden, message, ignores = TESTS) {
  return {
    files,
    ignores,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: forbidden.map((name) => `@heimdall/${name}`), message },
            { group: forbidden.map((name) => `@heimdall/${name}/*`), message },
            {
              group: ['@heimdall/testkit', '@heimdall/testkit/*', '**/*.fixtures', '**/*.fixtures.js'],
              message: 'Test helpers and fixtures belong to tests.',
            },
          ],
        },
      ],
    },
  };
}

function boundaries() {
  return [
    restrictImports(
      ['shared/src/**/*.ts'],
      [...SERVICES, ...TOOLING],
      'shared is the ground: it imports no service and no tooling.',
    ),
    restrictImports(
      ['gateway/src/**/*.ts'],
      [...SERVICES.filter((s) => s !== 'gateway'), ...TOOLING],
      'The gateway meets subgraphs only through federation.',
    ),
    ...['metrics', 'logs', 'traces', 'alerts'].map((name) =>
      restrictImports(
        [`subgraphs/${name}/src/**/*.ts`],
        [...SERVICES.filter((s) => s !== name), ...TOOLING],
        'Subgraphs never import each other, the gateway or the stack tooling: they meet through federation and their APIs.',
      ),
    ),
    // Tests and benchmarks of the whole system meet each package through its public face (its package root;
    // shared's entry points), never a module behind it.
    ...['e2e', 'bench'].map((name) => ({
      files: [`${name}/src/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: [...SERVICES, ...TOOLING, 'testkit'].map((pkg) => `@heimdall/${pkg}/*`),
                message: 'Import a package from its root: what it exports there is its public face.',
              },
              {
                regex: '^\\.\\.?/(.*/)?(subgraphs|gateway|shared|stack|testkit)/',
                message: 'Import a package by its name, not by a path into it.',
              },
              ...(name === 'e2e'
                ? [{ group: ['@heimdall/bench'], message: 'The end-to-end tests do not depend on the benchmarks.' }]
                : []),
            ],
          },
        ],
      },
    })),
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.stack/**', '**/dist/**', 'elasticsearch/nori-plugin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Export names explicitly.' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read the environment only in main.ts/cli.ts and pass config in.',
        },
      ],
    },
  },
  // The house's floors (STYLE §1): shared is the ground and imports no service; a subgraph meets the others only
  // through federation; the gateway meets subgraphs only through federation too; services never import the stack
  // CLI, test helpers or fixtures (their tests may).
  ...boundaries(),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Entry points read the environment; so do integration tests, which find the stack as the CLI does.
    files: [
      '**/main.ts',
      'stack/src/cli.ts',
      'scripts/**',
      '**/*.config.ts',
      'eslint.config.js',
      '**/*.int.test.ts',
      '**/*.fixtures.ts',
      'bench/src/**',
    ],
    rules: { 'no-restricted-properties': 'off' },
  },
);
