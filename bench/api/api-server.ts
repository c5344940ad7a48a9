/**
 * The service under test, in its own process: what `reload-task serve` runs (loadConfig from the
 * environment, then startServer), started by run.ts with DATA_DIR, HOST=127.0.0.1, PORT=0,
 * RATE_LIMIT_ENABLED=false and LOG_LEVEL=silent. run.ts starts it compiled (a private tsc build of
 * this file and src/, run with plain node, as `npm start` runs dist/) or through tsx.
 *
 * Over IPC it reports its port, and on request starts and stops a CPU profile of itself (the V8
 * sampling profiler through node:inspector), so a profile covers only a load window, not the
 * start-up. SIGTERM closes the service and exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { loadSourceMap, originalPosition, type LineMap } from './sourcemap.js';

const running = await startServer(loadConfig(process.env));
const address = running.app.server.address();

let session: Session | undefined;
process.on('message', (m: { cmd?: string; file?: string }) => {
  void (async () => {
    if (m.cmd === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 250 });
      await session.post('Profiler.start');
      process.send?.({ reply: 'profile-start' });
    } else if (m.cmd === 'profile-stop' && session && m.file) {
      const { profile } = await session.post('Profiler.stop');
      // Map the profile's positions back to the TypeScript sources, with the source maps of the
      // scripts (collected now that the load is over: Debugger.enable reports every parsed script).
      const maps = new Map<string, LineMap>();
      session.on('Debugger.scriptParsed', (e) => {
        const { url, sourceMapURL } = e.params;
        if (url.startsWith('file://') && !url.includes('/node_modules/') && sourceMapURL) {
          const map = loadSourceMap(url, sourceMapURL);
          if (map) maps.set(url, map);
        }
      });
      await session.post('Debugger.enable');
      await session.post('Debugger.disable');
      // A compiled build names its .js files; point them at the .ts sources they came from.
      const build = process.env.BENCH_BUILD_ROOT && pathToFileURL(process.env.BENCH_BUILD_ROOT).href + '/';
      const source = process.env.BENCH_SOURCE_ROOT && pathToFileURL(process.env.BENCH_SOURCE_ROOT).href + '/';
      for (const node of profile.nodes) {
        const f = node.callFrame;
        const map = maps.get(f.url);
        const pos = map && originalPosition(map, f.lineNumber, f.columnNumber);
        if (pos) {
          [f.lineNumber, f.columnNumber] = pos;
          if (build && source && f.url.startsWith(build)) f.url = source + f.url.slice(build.length).replace(/\.js$/, '.ts');
        }
      }
      session.disconnect();
      session = undefined;
      writeFileSync(m.file, JSON.stringify(profile));
      process.send?.({ reply: 'profile-stop' });
    }
  })();
});

process.send?.({ ready: true, port: typeof address === 'object' && address ? address.port : 0 });
process.once('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
