import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ABOVE = {
  group: ['**/cli/**', '**/cli.js', '**/server/**'],
  message: 'only src/cli and src/server import the CLI or the server (layers, issue 11)',
};
const CLI = {
  group: ['**/cli/**', '**/cli.js'],
  message: 'the server must not load the CLI (layers, issue 11)',
};
const REPORT = {
  group: ['**/report/*'],
  allowTypeImports: true,
  message: "load the report with a dynamic import() (it pulls in vega); users import 'ackmeans/report'",
};
const FILES = {
  group: ['**/io/**', '**/pipeline/**'],
  message: 'the clustering core knows no files and no pipeline (layers, issue 11)',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'dist/', 'dist-check/', 'scripts/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers (issue 11): the CLI and the server sit on top and nothing below them imports them; the
  // clustering core knows no files; the report (vega) is loaded only by a dynamic import() or
  // through the 'ackmeans/report' entry (startup time). A later block replaces an earlier one's
  // rule for the files both match, so each block lists every pattern its files obey.
  layer(['src/**/*.ts'], ['src/cli/**', 'src/cli.ts', 'src/server/**', 'src/report/**'], [ABOVE, REPORT]),
  layer(['src/report/**/*.ts'], [], [ABOVE]),
  layer(['src/server/**/*.ts'], [], [CLI, REPORT]),
  layer(['src/cluster/**/*.ts'], [], [ABOVE, REPORT, FILES]),
);

/** One no-restricted-imports layer rule for `files` (minus `ignores`). */
function layer(files, ignores, patterns) {
  return { files, ignores, rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] } };
}
