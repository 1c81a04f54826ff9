SELECT
    format('%I.%I', n.nspname, c.relname) AS key,
    p.polname AS name,
    p.polpermissive AS permissive,
    CASE p.polcmd
        WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
        WHEN 'd' THEN 'DELETE' ELSE 'ALL'
    END AS command,
    array(
        SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(r.oid)) END
        FROM unnest(p.polroles) AS r (oid)
        ORDER BY 1
    ) AS roles,
    pg_get_expr(p.polqual, p.polrelid) AS using,
    pg_get_expr(p.polwithcheck, p.polrelid) AS "check",
    obj_description(p.oid, 'pg_policy') AS comment
FROM pg_policy AS p
JOIN pg_class AS c ON c.oid = p.polrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.oid = ANY(CAST(:oids AS oid[]))
ORDER BY 1, p.polname
