/**
 * `npm run build [-- --out-dir dist]`: the production build. Compiles actors/, router/ and src/ with
 * tsconfig.build.json, then copies every file there that is not TypeScript — the Lua scripts, the SQL
 * migrations, the inspector's page — to the same place under the output folder. The compiled code finds
 * them next to itself (`new URL('./x', import.meta.url)`), exactly as the sources do under tsx, so no
 * module needs to know which it is. Start the result with `npm run start:prod` (`node dist/src/main.js`).
 *
 * The output folder must sit inside the checkout (the compiled code finds node_modules by walking up);
 * tests build into test-results/ so that they never touch a dist/ someone is running.
 */
import { spawnSync } from 'node:child_process';
import { cp, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['actors', 'router', 'src'];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } }, strict: true });
  const outDir = resolve(ROOT, values['out-dir']);
  if (relative(ROOT, outDir).startsWith('..')) throw new Error(`--out-dir must be inside ${ROOT}`);
  // A clean folder: a module deleted from the sources must not linger in the build.
  await rm(outDir, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  if (compiled.status !== 0) {
    process.stderr.write('build failed: TypeScript reported errors (above)\n');
    return 1;
  }
  let copied = 0;
  for (const top of SOURCES) {
    // Paths, not Dirents: Dirent.parentPath is missing before Node 20.12.
    for (const path of await readdir(join(ROOT, top), { recursive: true })) {
      const from = join(ROOT, top, path);
      if (path.endsWith('.ts') || !(await stat(from)).isFile()) continue;
      await cp(from, join(outDir, top, path));
      copied++;
    }
  }
  process.stdout.write(`built ${relative(ROOT, outDir)}/ (${copied} asset files copied); start it with node ${relative(ROOT, join(outDir, 'src', 'main.js'))}\n`);
  return 0;
}

process.exitCode = await main();
