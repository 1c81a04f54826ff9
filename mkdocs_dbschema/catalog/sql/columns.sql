SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    a.attname AS name,
    format_type(a.atttypid, a.atttypmod) AS type,
    NOT a.attnotnull AS nullable,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
    col_description(a.attrelid, a.attnum) AS comment,
    CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
    CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
    CASE a.attgenerated WHEN 's' THEN 'STORED' WHEN 'v' THEN 'VIRTUAL' END AS generated_kind,
    has_column_privilege(a.attrelid, a.attnum, 'SELECT') AS readable,
    -- A collation other than the type's own, as pg_dump names it.
    CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN (
        SELECT CASE
            WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname)
            ELSE format('%I.%I', cn.nspname, co.collname)
        END
        FROM pg_collation AS co
        JOIN pg_namespace AS cn ON cn.oid = co.collnamespace
        WHERE co.oid = a.attcollation
    ) END AS collation,
    -- Column privileges granted to roles (GRANT SELECT (col) ON ... TO role).
    array(
        SELECT format('%s: %s', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
            string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type))
        FROM aclexplode(a.attacl) AS x
        GROUP BY x.grantee
        ORDER BY 1
    ) AS grants,
    -- The enum or domain behind the column (through an array type too).
    CASE
        WHEN t.typtype IN ('e', 'd') THEN format_type(t.oid, NULL)
        WHEN e.typtype IN ('e', 'd') THEN format_type(e.oid, NULL)
    END AS user_type
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_type AS e ON e.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.oid = ANY(CAST(:oids AS oid[]))
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY 1, a.attnum
