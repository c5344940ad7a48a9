/**
 * Request loggers without a pino child per request.
 *
 * Fastify gives every request `parent.child({ traceId })`, and the API adds the caller with a second
 * child. A pino child serialises its bindings when it is made, which cost about a tenth of a GET by
 * id's time (docs/benchmarks-api.md), whether or not the request logs anything at the configured
 * level. A `BoundLogger` keeps the bindings as an object instead and adds them to a line only when
 * a line is written at an enabled level: the same JSON keys, no work for lines that are not written.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogCall = (...args: unknown[]) => void;
/** pino's loggers answer isLevelEnabled; another logger is asked to write every line. */
type Parent = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };

export class BoundLogger {
  /**
   * @param bindings this logger's keys; `inner` a child's own, merged over them only when a line is
   *        written (a request makes two bound loggers, Fastify's and the API's, and most write nothing)
   */
  constructor(
    private readonly parent: Parent,
    private readonly bindings: Bindings,
    private readonly inner?: Bindings,
  ) {}

  get level(): string {
    return this.parent.level;
  }

  set level(_level: string) {
    throw new Error('a request logger has its service logger level; use child(bindings, { level }) for another');
  }

  // Methods on the prototype, not a closure per method per logger: loggers are made per request.
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  isLevelEnabled(level: string): boolean {
    return this.parent.isLevelEnabled?.(level) ?? true;
  }

  /** More bindings: another bound logger; with options (a level, serializers), a real pino child. */
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    if (options !== undefined && Object.keys(options).length > 0) return this.parent.child({ ...this.all(), ...bindings }, options);
    // One level of laziness: a child of a child merges its parent's two sets now.
    return new BoundLogger(this.parent, this.inner === undefined ? this.bindings : this.all(), bindings) as unknown as FastifyBaseLogger;
  }

  private all(): Bindings {
    return this.inner === undefined ? this.bindings : { ...this.bindings, ...this.inner };
  }

  private write(level: Level, args: unknown[]): void {
    if (this.parent.isLevelEnabled?.(level) === false) return;
    const [first, ...rest] = args;
    const log = this.parent[level] as unknown as LogCall;
    // pino's forms: (object, msg?, ...args), (error, msg?, ...args) and (msg, ...args).
    if (first instanceof Error) {
      log.call(this.parent, { ...this.all(), err: first }, ...(rest.length > 0 ? rest : [first.message]));
    } else if (typeof first === 'object' && first !== null) {
      log.call(this.parent, { ...this.all(), ...first }, ...rest);
    } else {
      log.call(this.parent, { ...this.all() }, ...args);
    }
  }
}

/** For Fastify's `childLoggerFactory`: a bound logger unless the route asks for its own options. */
export function boundChildLogger(this: unknown, logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  return new BoundLogger(logger, bindings) as unknown as FastifyBaseLogger;
}
