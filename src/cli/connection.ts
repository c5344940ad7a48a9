/**
 * Where the API is and which token calls it: `--server`/`--token`, then `RELOAD_TASKS_SERVER`/
 * `RELOAD_TASKS_TOKEN`, then the saved context (`--context <name>`, else the current one).
 */
import { configDir, permissionWarning, readContexts } from './contexts.js';
import { UsageError } from './recurrence-flag.js';

export interface Connection {
  /** Base URL without a trailing slash, e.g. `http://localhost:8080` or `https://host/reload`. */
  readonly server: string;
  readonly token: string;
}

export interface ConnectionFlags {
  server?: string;
  token?: string;
  context?: string;
}

/**
 * Each of the two is taken from the first source that has it, with one exception: a saved
 * context's token is only sent to that context's own server. Otherwise `RELOAD_TASKS_SERVER=…`
 * in a shell with a current context would hand the context's token to whatever server that is.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv, warn: (line: string) => void): Connection {
  const given = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
  let server = given(flags.server) ?? given(env.RELOAD_TASKS_SERVER);
  let token = given(flags.token) ?? given(env.RELOAD_TASKS_TOKEN);
  if (server !== undefined) server = normalizeServer(server, given(flags.server) !== undefined ? '--server' : 'RELOAD_TASKS_SERVER');

  if (server === undefined || token === undefined || flags.context !== undefined) {
    const dir = configDir(env);
    const saved = readContexts(dir);
    const name = flags.context ?? saved.current;
    if (flags.context !== undefined && !saved.byName.has(flags.context)) {
      throw new UsageError(`--context: no context named '${flags.context}' (see: reload-task context ls)`);
    }
    const context = name === undefined ? undefined : saved.byName.get(name);
    if (context) {
      const warning = permissionWarning(dir);
      if (warning) warn(`warning: ${warning}`);
      const contextServer = normalizeServer(context.server, `context '${name}'`);
      server ??= contextServer;
      if (token === undefined && server === contextServer && context.token !== '') token = context.token;
    }
  }

  if (server === undefined) {
    throw new UsageError('no server: give --server <url>, set RELOAD_TASKS_SERVER, or save one with: reload-task context create <name> --server <url> --token <token>');
  }
  if (token === undefined) {
    throw new UsageError(`no token for ${server}: give --token <token>, set RELOAD_TASKS_TOKEN, or save a context for that server (reload-task context create)`);
  }
  return { server, token };
}

/** `http(s)://host[:port][/prefix]`, without a trailing slash; anything else is a usage error. */
export function normalizeServer(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new UsageError(`${from}: '${value}' is not a server URL such as http://localhost:8080 or https://reload.example.com`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
