/** `reload-task serve` (what `npm start` runs): the service, until SIGTERM or SIGINT. */
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { UsageError } from './recurrence-flag.js';

export function serveCommand(write: (text: string) => void): Command {
  return new Command('serve')
    .description('run the service (configuration from the environment: PORT, DATA_DIR, ...; see docs/operations.md, "Configuration")')
    .addHelpText('after', '\nExample:\n  PORT=8080 DATA_DIR=./data reload-task serve')
    .action(async () => {
      let config;
      try {
        config = loadConfig();
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`configuration: ${e.message}`);
        throw e;
      }
      // Loaded here, not at the top: every other command starts without the server's modules.
      const { startServer } = await import('../server.js');
      const running = await startServer(config);
      const local = !config.auth.jwksUrl && !config.auth.publicKeyPem;
      write(
        [
          `reload-tasks is listening on ${running.url}`,
          ...(['0.0.0.0', '::'].includes(config.host) ? [`  reachable:      from other machines too (HOST=${config.host}); HOST=127.0.0.1 keeps it to this one`] : []),
          `  data directory: ${config.dataDir}`,
          `  API:            ${running.url}/api/v1/reload-tasks (docs at ${running.url}/docs)`,
          `  scheduler:      ${!config.scheduler.enabled ? 'off (SCHEDULER_ENABLED=false)' : config.executor.kind === 'simulated' ? `on, with the SIMULATED executor (reloads are not run; each "succeeds" after ${config.executor.durationMs} ms). Set EXECUTOR=qlik-cloud, webhook or command to run real reloads.` : `on, executor ${config.executor.kind}`}`,
          local
            ? `  get a token:    DATA_DIR=${config.dataDir} npx reload-task token --tenant <tenantId> --user <userId> [--admin]`
            : '  tokens:         from your identity provider',
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: string): void => {
          running.log.info({ signal }, 'shutting down');
          // The service's timers do not hold the process (they are unref'd), and once the HTTP
          // server has closed nothing else would: Node would exit mid-drain, with running reloads
          // neither finished nor handed off. This one holds it until the drain is done.
          const hold = setInterval(() => {}, 60_000);
          running
            .close()
            .finally(() => clearInterval(hold))
            .then(resolve, (e: unknown) => {
              running.log.error({ err: e }, 'shutdown failed');
              reject(e instanceof Error ? e : new Error(String(e)));
            });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
