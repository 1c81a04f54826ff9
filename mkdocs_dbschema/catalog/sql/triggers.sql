SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    t.tgname AS name,
    pg_get_triggerdef(t.oid, true) AS definition,
    CASE t.tgenabled
        WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled'
        WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always'
    END AS enabled,
    t.tgfoid::regprocedure::text AS function,
    EXISTS (
        SELECT FROM unnest(f.proconfig) AS setting WHERE setting LIKE 'search_path=%'
    ) AS function_search_path_set,
    -- SQL or PL/pgSQL of the user's own: not built in, not part of an extension.
    l.lanname IN ('sql', 'plpgsql')
        AND f.pronamespace <> 'pg_catalog'::regnamespace
        AND NOT EXISTS (
            SELECT FROM pg_depend AS d
            WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.oid AND d.deptype = 'e'
        ) AS function_user_defined,
    t.tgconstraint <> 0 AS is_constraint,
    t.tgparentid <> 0 AS inherited,
    obj_description(t.oid, 'pg_trigger') AS comment
FROM pg_trigger AS t
JOIN pg_proc AS f ON f.oid = t.tgfoid
JOIN pg_language AS l ON l.oid = f.prolang
JOIN pg_class AS c ON c.oid = t.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = ANY(CAST(:oids AS oid[]))
  AND NOT t.tgisinternal
ORDER BY 1, t.tgname
