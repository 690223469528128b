/**
 * Builds the console into dist/: one ES module bundle and one stylesheet, each named by a hash of its content (the
 * gateway serves them as immutable), and index.html naming them (served no-cache, so a new build is seen at once).
 * esbuild, already in the tree under tsx: one binary, no plugin chain, a build in well under a second.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));

/** Builds the console into `outDir` (default console/dist); resolves with the files written, relative to it. */
export async function buildConsole(outDir = join(root, 'dist')): Promise<string[]> {
  await rm(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(root, 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: 'linked',
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
  const script = outputs.find((file) => file.endsWith('.js'));
  const style = outputs.find((file) => file.endsWith('.css'));
  if (script === undefined || style === undefined)
    throw new Error(`the build wrote no script or stylesheet: ${outputs.join(', ')}`);
  await writeFile(
    join(outDir, 'index.html'),
    [
      '<!doctype html>',
      '<html lang="en">',
      '<head>',
      '<meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width, initial-scale=1">',
      '<title>Heimdall</title>',
      // No favicon request (and no 404 in the console) until there is an icon.
      '<link rel="icon" href="data:,">',
      `<link rel="stylesheet" href="/assets/${style}">`,
      `<script type="module" src="/assets/${script}"></script>`,
      '</head>',
      '<body><div id="app"></div></body>',
      '</html>',
      '',
    ].join('\n'),
  );
  return ['index.html', ...outputs.map((file) => `assets/${file}`)];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildConsole();
  console.log(`console built: ${files.join(', ')}`);
}
