/**
 * The seam between the service and its database. Routes and the scheduler use only this
 * interface; `sqlite/` and `postgres/` implement it, and one test suite runs against each.
 * Database errors never leave a store raw: they become StoreUnavailableError (answered as 503)
 * or a bug (500).
 */
import type { Task } from '../tasks/task.js';

export interface TaskListQuery {
  readonly tenantId: string;
  /** Only this owner's tasks (a non-admin caller). */
  readonly userId?: string | undefined;
  readonly appId?: string | undefined;
  readonly partial?: boolean | undefined;
  /** Keyset bounds: ids strictly after / strictly before. At most one is set. */
  readonly after?: string | undefined;
  readonly before?: string | undefined;
  /** Whether the bound id itself is included (>= / <=). */
  readonly inclusive?: boolean | undefined;
  readonly limit: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  insertTask(task: Task): Promise<void>;
  getTask(tenantId: string, id: string): Promise<Task | undefined>;
  /**
   * Saves `task` if the stored row still has version `task.version - 1` (optimistic concurrency);
   * false when the row changed or was deleted meanwhile.
   */
  updateTask(task: Task): Promise<boolean>;
  deleteTask(tenantId: string, id: string): Promise<boolean>;
  /**
   * Up to `limit` tasks in ascending id order: the first ones after `after` (or from the start),
   * or the last ones before `before`.
   */
  listTasks(query: TaskListQuery): Promise<Task[]>;
  /** Whether any task matches (used to know whether a next/previous page exists). */
  anyTask(query: Omit<TaskListQuery, 'limit'>): Promise<boolean>;
  /** A random service-wide secret, created on first use and shared by every instance. */
  secret(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** The database cannot be reached or is busy; the API answers 503 and the caller may retry. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** The database holds a schema newer than this build knows; refuse to run against it. */
export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}
