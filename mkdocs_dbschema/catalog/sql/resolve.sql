-- Resolve directive names like PostgreSQL does: a qualified name in its schema,
-- an unqualified one through the session search_path (first match wins).
-- A name that resolves to nothing gets a hint: the same name in another case
-- where it was looked for, else the same name in another schema, written so
-- that it resolves (`"MixedCase"`, `ops.orders`).
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
    found.oid,
    CASE WHEN found.oid IS NULL THEN (
        SELECT CASE
            WHEN requested.schema_name IS NULL THEN CAST(CAST(c.oid AS regclass) AS text)
            ELSE format('%I.%I', n.nspname, c.relname)
        END
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN search_path AS sp ON sp.nspname = n.nspname
        WHERE lower(c.relname) = lower(requested.rel_name)
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname !~ '^pg_(toast|temp_)'
          AND (sp.pos IS NOT NULL OR n.nspname NOT IN ('pg_catalog', 'information_schema'))
        ORDER BY
            -- where the name was looked for first, then the exact name elsewhere
            coalesce(n.nspname = requested.schema_name, sp.pos IS NOT NULL) DESC,
            c.relname = requested.rel_name DESC,
            sp.pos, n.nspname, c.relname
        LIMIT 1
    ) END AS hint,
    -- Else a near spelling where the name was looked for (`whatsapp_mesages`): the
    -- most similar name by shared letter pairs (Dice coefficient), if similar enough.
    CASE WHEN found.oid IS NULL THEN (
        SELECT CASE
            WHEN requested.schema_name IS NULL THEN CAST(CAST(c.oid AS regclass) AS text)
            ELSE format('%I.%I', n.nspname, c.relname)
        END
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN search_path AS sp ON sp.nspname = n.nspname
        CROSS JOIN LATERAL (
            SELECT 2.0 * count(*) / greatest(length(c.relname) + length(requested.rel_name) - 2, 1) AS dice
            FROM (
                SELECT substr(lower(c.relname), i, 2) FROM generate_series(1, length(c.relname) - 1) AS i
                INTERSECT ALL
                SELECT substr(lower(requested.rel_name), i, 2)
                FROM generate_series(1, length(requested.rel_name) - 1) AS i
            ) AS shared
        ) AS likeness
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND abs(length(c.relname) - length(requested.rel_name)) <= 3
          AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND (n.nspname = requested.schema_name OR (requested.schema_name IS NULL AND sp.pos IS NOT NULL))
          AND likeness.dice >= 0.5
        ORDER BY likeness.dice DESC, sp.pos, c.relname
        LIMIT 1
    ) END AS near,
    array_to_string(current_schemas(false), ', ') AS search_path,
    current_user AS role,
    (
        SELECT to_char(stats_reset AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
        FROM pg_stat_database
        WHERE datname = current_database()
    ) AS stats_since
FROM requested
LEFT JOIN LATERAL (
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
) AS found ON true
ORDER BY requested.ord
