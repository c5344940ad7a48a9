/**
 * The service under test in its own process, as `reload-task serve` runs it: loadConfig from the
 * environment (DATABASE_URL set: PostgreSQL; unset: SQLite in DATA_DIR), then startServer. It
 * reports its port over IPC and closes on SIGTERM.
 */
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';

const running = await startServer(loadConfig(process.env));
const address = running.app.server.address();
process.send?.({ kind: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
process.once('SIGTERM', () => {
  void running.close().then(() => process.exit(0));
});
