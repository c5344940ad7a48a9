/**
 * `reload-task backup --to <file>`: a consistent copy of the SQLite database while the service
 * runs, with SQLite's online backup API (pages are copied in steps; the service keeps writing).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../config.js';
import { SQLITE_FILE } from '../store/open.js';
import { UsageError } from './recurrence-flag.js';

export function backupCommand(write: (text: string) => void): Command {
  return new Command('backup')
    .description('copy the SQLite database (DATA_DIR) to a file, consistently, while the service runs')
    .requiredOption('--to <file>', 'the file to write (must not exist)')
    .addHelpText('after', '\nExample:\n  DATA_DIR=/var/lib/reload-tasks reload-task backup --to /backups/reload-tasks-$(date +%F).db\n\nRestore: stop the service, put the file in place as DATA_DIR/reload-tasks.db, start the service.')
    .action(async (opts: { to: string }) => {
      let config;
      try {
        config = loadConfig();
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`configuration: ${e.message}`);
        throw e;
      }
      if (config.databaseUrl) throw new UsageError('backup: DATABASE_URL is set; back up PostgreSQL with pg_dump (docs/operations.md)');
      const source = join(config.dataDir, SQLITE_FILE);
      if (!existsSync(source)) throw new UsageError(`backup: no database at ${source} (is DATA_DIR right?)`);
      if (existsSync(opts.to)) throw new UsageError(`backup: ${opts.to} exists; choose a new file`);
      const db = new Database(source, { readonly: true, fileMustExist: true });
      try {
        const { totalPages } = await db.backup(opts.to);
        write(`backed up ${source} to ${opts.to} (${totalPages} pages)\n`);
      } finally {
        db.close();
      }
    });
}
