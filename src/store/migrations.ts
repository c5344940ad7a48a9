/**
 * Numbered, append-only migrations: `migrations/<dialect>/000001_name.sql`. Each is applied in one
 * transaction together with its ledger row; a database whose ledger has a version this build does
 * not know is refused (it was migrated by a newer release, and running old code on it could lose
 * data).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migrations directory of a dialect, found from this module (works from src/ and dist/). */
function migrationsDir(dialect: 'sqlite' | 'postgres'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'migrations', dialect);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`migrations/${dialect} not found above ${fileURLToPath(import.meta.url)}`);
}

export function loadMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = migrationsDir(dialect);
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const m = /^(\d{6})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!m) throw new Error(`migrations/${dialect}/${file}: name must be NNNNNN_snake_case.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migrations/${dialect}: expected version ${i + 1}, found ${m.version} (${m.name})`);
  });
  return migrations;
}
