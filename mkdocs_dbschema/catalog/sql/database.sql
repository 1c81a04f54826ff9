-- Facts about the whole database, one row: the schemas the API roles that exist
-- (Supabase's anon and authenticated, PostgREST's usual names) may use, and the
-- installed extensions with their versions.
SELECT
    array(
        SELECT n.nspname
        FROM pg_namespace AS n
        WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
          AND EXISTS (
              SELECT FROM pg_roles AS r
              WHERE r.rolname IN ('anon', 'authenticated')
                AND has_schema_privilege(r.oid, n.oid, 'USAGE')
          )
        ORDER BY n.nspname
    ) AS api_schemas,
    coalesce((
        SELECT json_agg(json_build_object(
            'name', e.extname,
            'version', e.extversion,
            'schema', n.nspname,
            'relocatable', e.extrelocatable,
            'comment', obj_description(e.oid, 'pg_extension')
        ) ORDER BY e.extname)
        FROM pg_extension AS e
        JOIN pg_namespace AS n ON n.oid = e.extnamespace
    ), '[]') AS extensions
