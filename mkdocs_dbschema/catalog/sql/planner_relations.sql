-- Planner statistics of every table, materialized view and index in :schemas: what
-- pg_restore_relation_stats takes back. relpages / reltuples size a relation for the
-- planner; relallvisible prices index-only scans.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS kind,
       am.amname AS access_method,
       c.relpages,
       c.reltuples,
       c.relallvisible
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_am AS am ON am.oid = c.relam
WHERE n.nspname = ANY(CAST(:schemas AS text[]))
  AND c.relkind IN ('r', 'p', 'm', 'i')
ORDER BY n.nspname, c.relname
