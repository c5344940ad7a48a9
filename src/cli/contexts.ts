/**
 * Saved contexts: named (server, token) pairs in one JSON file, one of them current, as qlik-cli's
 * `qlik context` keeps them. The file holds bearer tokens, so it is the user's alone: the directory
 * is created 0700 and the file 0600, and every write goes to a temporary file in the same directory
 * that is then renamed over the old one, so a crash or a full disk never leaves half a file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './recurrence-flag.js';

export interface SavedContext {
  readonly server: string;
  readonly token: string;
}

export interface Contexts {
  current: string | undefined;
  /** A Map, so that names such as `__proto__` or `constructor` are plain names. */
  readonly byName: Map<string, SavedContext>;
}

const FILE_NAME = 'contexts.json';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `$RELOAD_TASKS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/reload-task`, else `~/.config/reload-task`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RELOAD_TASKS_CONFIG_DIR) return env.RELOAD_TASKS_CONFIG_DIR;
  // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.config'), 'reload-task');
}

export function contextsPath(dir: string): string {
  return join(dir, FILE_NAME);
}

export function checkContextName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`context name '${name}': use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}

/** The saved contexts; none when the file does not exist yet. */
export function readContexts(dir: string): Contexts {
  const path = contextsPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { current: undefined, byName: new Map() };
    throw e;
  }
  const bad = (why: string): Error => new Error(`${path}: ${why}; fix or remove the file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('is not valid JSON');
  }
  if (!isObject(parsed) || !isObject(parsed.contexts)) throw bad('has no "contexts" object');
  const byName = new Map<string, SavedContext>();
  for (const [name, value] of Object.entries(parsed.contexts)) {
    if (!isObject(value) || typeof value.server !== 'string' || typeof value.token !== 'string') throw bad(`context '${name}' needs a "server" and a "token" string`);
    byName.set(name, { server: value.server, token: value.token });
  }
  const current = typeof parsed.current === 'string' && byName.has(parsed.current) ? parsed.current : undefined;
  return { current, byName };
}

/** Replaces the file with `contexts`, atomically, readable by the user only. */
export function writeContexts(dir: string, contexts: Contexts): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const json = {
    current: contexts.current ?? null,
    contexts: Object.fromEntries([...contexts.byName].map(([name, c]) => [name, { server: c.server, token: c.token }])),
  };
  const target = contextsPath(dir);
  const temp = join(dir, `.${FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx' with 0600: the file never exists, even for a moment, with wider permissions.
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(json, null, 2)}\n`);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * A warning when the file can be read by others (it was copied, or made by hand): the tokens in it
 * are as good as passwords. Undefined when the permissions are fine or cannot be told (Windows).
 */
export function permissionWarning(dir: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    const mode = statSync(contextsPath(dir)).mode & 0o777;
    if ((mode & 0o077) !== 0) return `${contextsPath(dir)} can be read by other users (mode ${mode.toString(8)}); run: chmod 600 '${contextsPath(dir)}'`;
  } catch {
    // No file, nothing to warn about.
  }
  return undefined;
}

/** A token as `ls` shows it: never whole, only enough to tell two apart. */
export function maskToken(token: string): string {
  return token.length <= 12 ? '****' : `****${token.slice(-4)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
