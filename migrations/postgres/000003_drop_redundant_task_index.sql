-- 000003: reload_tasks_by_app_only (tenant_id, app_id) repeats the prefix of reload_tasks_by_app
-- (tenant_id, app_id, id), which answers the same lookups. Every firing rewrites each index of the
-- task's row (its next execution time is indexed, so the update is never in place): one index fewer
-- is one write fewer per firing.
DROP INDEX reload_tasks_by_app_only;
