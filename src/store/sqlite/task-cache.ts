/**
 * Tasks read by id, kept in memory while they are unchanged: a GET by id is then answered without
 * a B-tree search and a row decode, which were the largest part of its cost on a large table
 * (docs/benchmarks-api.md).
 *
 * A kept task is never stale:
 * - Every change this connection makes to a task (the API's writes, the scheduler's firings, events,
 *   deletes) runs a TEMP trigger that drops it here, inside the statement that changes it, so no
 *   read can come between the change and the drop. A change that is rolled back also drops it,
 *   which costs a read and nothing else.
 * - A task is kept only when read outside a transaction, so nothing uncommitted is ever kept.
 * - Another connection's commits (a `sqlite3` shell; the service itself runs one process per file)
 *   cannot run the trigger. SQLite's `PRAGMA data_version` changes when one commits, and then
 *   everything kept is dropped. It is read at the first look-up in each turn of the event loop, not
 *   at every one: reading it takes the file's shared lock (two fcntl calls and an fstat), which was
 *   a tenth of a GET by id's cost. Another connection's commit is so seen from the next turn on,
 *   well within a millisecond under load.
 *
 * The kept objects are frozen: callers share them.
 */
import type Database from 'better-sqlite3';
import type { Task } from '../../tasks/task.js';

/** The SQL function the triggers call with the id of a changed or deleted task. */
const FORGET = 'reload_tasks_cache_forget';

export class TaskCache {
  private readonly tasks = new Map<string, Task>();
  /** Ids in the order they were kept (a ring once full), and the slot the next one takes. */
  private readonly order: string[] = [];
  private next = 0;
  private version: unknown;
  private readonly dataVersion: Database.Statement;
  /** data_version was read in this turn of the event loop; a setImmediate clears it after the turn. */
  private checked = false;
  private readonly endOfTurn = (): void => {
    this.checked = false;
  };

  /**
   * @param limit tasks kept at most (the oldest kept goes first); 0 keeps none and installs nothing
   */
  constructor(
    private readonly db: Database.Database,
    readonly limit: number,
  ) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    if (limit <= 0) return;
    db.function(FORGET, { deterministic: false, directOnly: true }, (id: unknown) => {
      if (this.tasks.size > 0 && typeof id === 'string') this.tasks.delete(id);
      return null;
    });
    db.exec(`
      CREATE TEMP TRIGGER IF NOT EXISTS reload_tasks_cache_update AFTER UPDATE ON main.reload_tasks
        BEGIN SELECT ${FORGET}(old.id); SELECT ${FORGET}(new.id) WHERE new.id IS NOT old.id; END;
      CREATE TEMP TRIGGER IF NOT EXISTS reload_tasks_cache_delete AFTER DELETE ON main.reload_tasks
        BEGIN SELECT ${FORGET}(old.id); END;`);
    this.version = this.dataVersion.get();
  }

  /** The kept task with this id, if any (of whichever tenant: the caller checks). */
  get(id: string): Task | undefined {
    if (this.limit <= 0) return undefined;
    if (!this.checked) {
      this.checked = true;
      setImmediate(this.endOfTurn);
      const version = this.dataVersion.get();
      if (version !== this.version) {
        this.tasks.clear();
        this.version = version;
        return undefined;
      }
    }
    return this.tasks.get(id);
  }

  /** Keeps a task just read, unless a transaction is open (what it read may yet be rolled back). */
  keep(task: Task): Task {
    if (this.limit <= 0 || this.db.inTransaction) return task;
    // The ids in the order they were kept, in a ring of `limit` slots: the id a new one overwrites
    // goes from the map (it may be gone already, or kept again since: either way harmless), so the
    // map never holds more than `limit`. (Taking the map's first key instead scans past the entries
    // deleted before it: 5 µs a keep at 10,000 with ids cycling through twice as many.)
    if (this.order.length < this.limit) {
      this.order.push(task.id);
    } else {
      this.tasks.delete(this.order[this.next]!);
      this.order[this.next] = task.id;
      this.next = (this.next + 1) % this.limit;
    }
    Object.freeze(task.recurrence);
    this.tasks.set(task.id, Object.freeze(task));
    return task;
  }

  get size(): number {
    return this.tasks.size;
  }
}
