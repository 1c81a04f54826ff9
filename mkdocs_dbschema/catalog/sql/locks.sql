-- After a lock timeout: which documented relations (or their indexes) an ACCESS
-- EXCLUSIVE lock holds or waits for, and by whom. Query texts are left out: they may
-- hold secrets.
SELECT DISTINCT
    l.relation::regclass::text AS relation,
    l.pid,
    coalesce(nullif(a.application_name, ''), 'no application name') AS application
FROM pg_locks AS l
LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'relation'
  AND l.mode = 'AccessExclusiveLock'
  AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (
      l.relation = ANY(CAST(:oids AS oid[]))
      OR l.relation IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY(CAST(:oids AS oid[])))
  )
ORDER BY 1, 2
