-- Functions and procedures of the documented schemas (those of the documented
-- tables and those on the search_path), and every function the documented tables
-- use in triggers, defaults, checks and policies, wherever it lives. Built-in
-- functions are left out; extension members only when a table uses them.
WITH documented AS (
    SELECT DISTINCT relnamespace AS oid FROM pg_class WHERE oid = ANY(CAST(:oids AS oid[]))
    UNION
    SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(false))
),
used AS (
    SELECT t.tgrelid AS relid, t.tgfoid AS fn, 'trigger' AS via
    FROM pg_trigger AS t
    WHERE t.tgrelid = ANY(CAST(:oids AS oid[])) AND NOT t.tgisinternal
    UNION
    SELECT x.adrelid, d.refobjid, 'default'
    FROM pg_attrdef AS x
    JOIN pg_depend AS d ON d.classid = 'pg_attrdef'::regclass AND d.objid = x.oid
    WHERE x.adrelid = ANY(CAST(:oids AS oid[])) AND d.refclassid = 'pg_proc'::regclass
    UNION
    SELECT x.conrelid, d.refobjid, 'check'
    FROM pg_constraint AS x
    JOIN pg_depend AS d ON d.classid = 'pg_constraint'::regclass AND d.objid = x.oid
    WHERE x.conrelid = ANY(CAST(:oids AS oid[])) AND x.contype = 'c' AND d.refclassid = 'pg_proc'::regclass
    UNION
    SELECT x.polrelid, d.refobjid, 'policy'
    FROM pg_policy AS x
    JOIN pg_depend AS d ON d.classid = 'pg_policy'::regclass AND d.objid = x.oid
    WHERE x.polrelid = ANY(CAST(:oids AS oid[])) AND d.refclassid = 'pg_proc'::regclass
),
chosen AS (
    SELECT p.oid
    FROM pg_proc AS p
    WHERE p.pronamespace IN (SELECT oid FROM documented)
      AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
      AND NOT EXISTS (
          SELECT FROM pg_depend AS d
          WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
      )
    UNION
    SELECT used.fn
    FROM used
    JOIN pg_proc AS p ON p.oid = used.fn
    WHERE p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
),
-- Words of each body that are neither qualified (after a dot) nor qualifiers
-- (before one): the names the function leaves to its search_path.
words AS (
    SELECT DISTINCT chosen.oid, lower(m[1]) AS word
    FROM chosen
    JOIN pg_proc AS p ON p.oid = chosen.oid
    JOIN pg_language AS l ON l.oid = p.prolang
    CROSS JOIN LATERAL regexp_matches(
        regexp_replace(p.prosrc, '--[^\n]*', ' ', 'g'),
        '(?:^|[^\w.$"])([A-Za-z_][\w$]*)(?![\w$])(?!\s*\.)', 'g'
    ) AS m
    WHERE l.lanname IN ('sql', 'plpgsql') AND p.prosrc IS NOT NULL
),
reached AS (
    SELECT words.oid, c.relnamespace AS nsp
    FROM words JOIN pg_class AS c ON c.relname = words.word
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    UNION
    SELECT words.oid, f.pronamespace
    FROM words JOIN pg_proc AS f ON f.proname = words.word
    UNION
    SELECT words.oid, t.typnamespace
    FROM words JOIN pg_type AS t ON t.typname = words.word
)
SELECT
    format('%I.%I', n.nspname, p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS key,
    p.oid::regprocedure::text AS name,
    n.nspname AS schema,
    CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window' ELSE 'function' END
        AS kind,
    l.lanname AS language,
    pg_get_function_result(p.oid) AS returns,
    CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END AS volatility,
    p.prosecdef AS security_definer,
    (
        -- SET search_path = '' is kept as "": print it as it is written.
        SELECT replace(substr(setting, length('search_path=') + 1), '""', '''''')
        FROM unnest(p.proconfig) AS setting
        WHERE setting LIKE 'search_path=%'
    ) AS search_path,
    coalesce(p.proconfig, '{}') AS settings,
    l.lanname IN ('sql', 'plpgsql') AND ext.name IS NULL AS user_defined,
    ext.name AS extension,
    p.pronamespace IN (SELECT oid FROM documented) AS documented,
    CASE WHEN l.lanname IN ('sql', 'plpgsql') THEN coalesce(nullif(p.prosrc, ''), pg_get_function_sqlbody(p.oid)) END
        AS body,
    -- Schemas (not the system's) holding a relation, function or type named by an
    -- unqualified word of the body, in search_path order: where its names resolve.
    array(
        SELECT rn.nspname
        FROM reached
        JOIN pg_namespace AS rn ON rn.oid = reached.nsp
        LEFT JOIN unnest(current_schemas(false)) WITH ORDINALITY AS sp (nspname, pos) ON sp.nspname = rn.nspname
        WHERE reached.oid = p.oid
          AND rn.nspname !~ '^pg_' AND rn.nspname <> 'information_schema'
        GROUP BY rn.nspname, sp.pos
        ORDER BY sp.pos NULLS LAST, rn.nspname
    ) AS body_schemas,
    array(
        SELECT DISTINCT format('%s %s', u.via, format('%I.%I', un.nspname, uc.relname))
        FROM used AS u
        JOIN pg_class AS uc ON uc.oid = u.relid
        JOIN pg_namespace AS un ON un.oid = uc.relnamespace
        WHERE u.fn = p.oid
    ) AS used_by,
    obj_description(p.oid, 'pg_proc') AS comment
FROM chosen
JOIN pg_proc AS p ON p.oid = chosen.oid
JOIN pg_namespace AS n ON n.oid = p.pronamespace
JOIN pg_language AS l ON l.oid = p.prolang
LEFT JOIN LATERAL (
    SELECT e.extname AS name
    FROM pg_depend AS d JOIN pg_extension AS e ON e.oid = d.refobjid
    WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
) AS ext ON true
ORDER BY 1
