/**
 * A private compiled build of the servers the benchmark starts (bench/api/api-server.ts,
 * bench/api/hello-server.ts and the src/ they import), so that they run on plain node as
 * `npm start` runs dist/, without tsx's loader in the process, and without touching the
 * project's own dist/ (which others may be using). Same compiler and options as `npm run build`
 * (tsconfig.json), written to a temporary directory with links to node_modules and migrations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Build {
  readonly dir: string;
  readonly apiServer: string;
  readonly helloServer: string;
  /** tsc's diagnostics (the build is used anyway when the files were emitted). */
  readonly diagnostics: string;
}

export function buildServers(root: string, dir: string): Build {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  symlinkSync(join(root, 'migrations'), join(dir, 'migrations'), 'dir');
  const tsconfig = {
    extends: join(root, 'tsconfig.json'),
    compilerOptions: { outDir: dir, rootDir: root, noEmit: false, declaration: false, sourceMap: true, incremental: false },
    files: [join(root, 'bench', 'api', 'api-server.ts'), join(root, 'bench', 'api', 'hello-server.ts')],
    include: [],
  };
  const config = join(dir, 'tsconfig.json');
  writeFileSync(config, JSON.stringify(tsconfig, null, 2));
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], { cwd: root, encoding: 'utf8' });
  const apiServer = join(dir, 'bench', 'api', 'api-server.js');
  const helloServer = join(dir, 'bench', 'api', 'hello-server.js');
  if (!existsSync(apiServer) || !existsSync(helloServer)) {
    throw new Error(`tsc did not build the servers (exit ${tsc.status}):\n${tsc.stdout}${tsc.stderr}`);
  }
  return { dir, apiServer, helloServer, diagnostics: `${tsc.stdout}${tsc.stderr}`.trim() };
}
