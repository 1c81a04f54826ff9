-- Resolve directive names like PostgreSQL does: a qualified name in its schema,
-- an unqualified one through the session search_path (first match wins).
WITH requested AS (
    SELECT ord, schema_name, rel_name
    FROM unnest(CAST(:schemas AS text[]), CAST(:names AS text[]))
        WITH ORDINALITY AS r (schema_name, rel_name, ord)
),
search_path AS (
    SELECT nspname, pos
    FROM unnest(current_schemas(true)) WITH ORDINALITY AS s (nspname, pos)
)
SELECT
    requested.ord,
    (
        SELECT c.oid
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN search_path AS sp ON sp.nspname = n.nspname
        WHERE c.relname = requested.rel_name
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND (n.nspname = requested.schema_name
               OR (requested.schema_name IS NULL AND sp.pos IS NOT NULL))
        ORDER BY sp.pos
        LIMIT 1
    ) AS oid,
    array_to_string(current_schemas(false), ', ') AS search_path,
    current_user AS role,
    (
        SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        FROM pg_stat_database
        WHERE datname = current_database()
    ) AS stats_since
FROM requested
ORDER BY requested.ord
