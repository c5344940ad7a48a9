/**
 * Server processes for the benchmark: spawning one (its own process and event loop, an IPC
 * channel for its port), stopping it, and reading its memory and CPU from /proc while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { killOnExit } from '../common/children.js';

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** Sends `{cmd}` (and more) over IPC and waits for the child's `{reply: cmd}`. */
  ask(message: { cmd: string; [k: string]: unknown }): Promise<void>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  readonly script: string;
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Run a .ts script through tsx (`--import tsx`); a compiled .js script runs on plain node. */
  readonly tsx: boolean;
}


export async function spawnServer(o: SpawnOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...(o.tsx ? ['--import', 'tsx'] : []), o.script], {
    cwd: o.cwd,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  killOnExit(child, true);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.script}: not ready after 60 s`)), 60_000);
    child.once('message', (m: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      if (m.ready && m.port) resolve(m.port);
      else reject(new Error(`${o.script}: unexpected message ${JSON.stringify(m)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${o.script}: exited before ready (code ${code}, signal ${signal})`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    port,
    child,
    ask: (message) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${o.script}: no reply to ${message.cmd}`)), 60_000);
        const onMessage = (m: { reply?: string }): void => {
          if (m.reply !== message.cmd) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send(message);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** VmRSS and VmHWM of a process, in bytes (from /proc/<pid>/status). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : NaN;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far (from /proc/<pid>/stat). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}

export interface RssPhase {
  readonly phase: string;
  readonly samples: number;
  readonly maxRss: number;
  readonly lastRss: number;
}

/** Samples a process's VmRSS every `everyMs`, labelled with the phase the run is in. */
export class RssSampler {
  private readonly phases: Array<{ phase: string; samples: number; maxRss: number; lastRss: number }> = [];
  private current: { phase: string; samples: number; maxRss: number; lastRss: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  hwm = 0;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 250,
  ) {}

  start(phase: string): void {
    this.phase(phase);
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  /** Enters a phase (again, when one of that name was entered before) and takes a sample. */
  phase(name: string): void {
    let p = this.phases.find((x) => x.phase === name);
    if (!p) {
      p = { phase: name, samples: 0, maxRss: 0, lastRss: 0 };
      this.phases.push(p);
    }
    this.current = p;
    this.sample();
  }

  sample(): void {
    const cur = this.current;
    if (!cur) return;
    try {
      const m = memoryOf(this.pid);
      cur.samples++;
      cur.maxRss = Math.max(cur.maxRss, m.rss);
      cur.lastRss = m.rss;
      this.hwm = Math.max(this.hwm, m.hwm);
    } catch {
      // The process has exited.
    }
  }

  stop(): RssPhase[] {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    return this.phases.map((p) => ({ ...p }));
  }
}

/** Busy CPU seconds of the whole machine so far (all cores; from /proc/stat, steal included). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

export interface CpuShares {
  /** % of one core over the window: the server, this process, and everything else on the machine. */
  readonly server: number;
  readonly loader: number;
  readonly other: number;
}

/** CPU used over a window by the server, by this process, and by every other process. */
export function cpuWindow(serverPid: number | undefined): () => CpuShares {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const serverCpu = (): number => (serverPid === undefined ? 0 : cpuSecondsOf(serverPid));
  const server0 = serverCpu();
  const busy0 = machineBusySeconds();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const self = process.cpuUsage(self0);
    const loader = (self.user + self.system) / 1e6;
    const server = serverCpu() - server0;
    const busy = machineBusySeconds() - busy0;
    return { server: (100 * server) / wall, loader: (100 * loader) / wall, other: Math.max(0, (100 * (busy - server - loader)) / wall) };
  };
}

/**
 * Waits until other processes use less than `maxOtherPct` of one core (over 2 s samples), at most
 * `maxWaitS` seconds; the machine is shared, and a run during someone else's build measures both.
 * Returns the seconds waited and the other processes' CPU share at the end.
 */
export async function waitForQuiet(serverPid: number | undefined, maxOtherPct: number, maxWaitS: number, log: (s: string) => void): Promise<{ waitedS: number; otherPct: number }> {
  const start = performance.now();
  let logged = 0;
  for (;;) {
    const stop = cpuWindow(serverPid);
    await new Promise((r) => setTimeout(r, 2000));
    const s = stop();
    const other = s.other;
    const waited = (performance.now() - start) / 1000;
    if (other < maxOtherPct || waited >= maxWaitS) {
      if (other >= maxOtherPct) log(`machine still busy (other processes at ${other.toFixed(0)} % of a core) after ${waited.toFixed(0)} s; measuring anyway`);
      return { waitedS: waited, otherPct: other };
    }
    if (waited - logged >= 30 || logged === 0) {
      log(`waiting for a quiet machine: other processes use ${other.toFixed(0)} % of a core`);
      logged = waited || 1;
    }
  }
}
