/**
 * `reload-task token`: prints a JWT for the stand-alone installation's own key (or the HS256
 * secret), and nothing else, on stdout, so that `TOKEN=$(npx reload-task token …)` works.
 */
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { loadOrCreateLocalKey } from '../auth/local-key.js';
import { MAX_TOKEN_SECONDS, mintToken } from '../auth/mint.js';
import { UsageError } from './recurrence-flag.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function tokenCommand(write: (text: string) => void): Command {
  return new Command('token')
    .description('print a bearer token (JWT) signed with the key in DATA_DIR, for calling the API')
    .requiredOption('--tenant <tenantId>', 'the tenant the token acts in')
    .requiredOption('--user <userId>', 'the user (subject) the token acts as')
    .option('--admin', 'give the TenantAdmin role (sees and changes all tasks of the tenant)')
    .addOption(new Option('--expires-in <duration>', 'lifetime: a number with s, m, h or d (at most 365d)').default(3600, '1h').argParser(parseDuration))
    .addHelpText('after', '\nExample:\n  TOKEN=$(npx reload-task token --tenant acme --user alice)\n  curl -H "Authorization: Bearer $TOKEN" http://localhost:8080/api/v1/reload-tasks')
    .action(async (opts: { tenant: string; user: string; admin?: boolean; expiresIn: number }) => {
      let config;
      try {
        config = loadConfig();
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`configuration: ${e.message}`);
        throw e;
      }
      for (const [flag, v] of [['--tenant', opts.tenant], ['--user', opts.user]] as const) {
        if (v.trim() === '' || v.length > 256) throw new UsageError(`${flag}: must be 1 to 256 characters`);
      }
      let token: string;
      try {
        token = await mintToken(config.auth, () => loadOrCreateLocalKey(config.dataDir), {
          tenantId: opts.tenant,
          userId: opts.user,
          admin: opts.admin === true,
          expiresInSeconds: opts.expiresIn,
          now: Date.now(),
        });
      } catch (e) {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      }
      write(`${token}\n`);
    });
}

function parseDuration(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value);
  const seconds = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(seconds >= 1 && seconds <= MAX_TOKEN_SECONDS)) throw new UsageError(`--expires-in: '${value}' is not a duration such as 30m, 1h or 7d (at most 365d)`);
  return seconds;
}
