-- One table per advisor that must fire on it, and `clean` / `parent` on which none may.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbschema_app') THEN
        CREATE ROLE dbschema_app NOLOGIN;
    END IF;
END $$;
CREATE FUNCTION fixed_path() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION mutable_path() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;

CREATE TABLE parent (id int PRIMARY KEY);
COMMENT ON TABLE parent IS 'Referenced by clean';
COMMENT ON COLUMN parent.id IS 'key';
ALTER TABLE parent ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_parent ON parent FOR SELECT TO dbschema_app USING (true);

CREATE TABLE clean (id int PRIMARY KEY, tenant_id uuid NOT NULL, parent_id int REFERENCES parent, kind text);
COMMENT ON TABLE clean IS 'Passes every advisor';
COMMENT ON COLUMN clean.id IS 'key';
COMMENT ON COLUMN clean.tenant_id IS 'tenant';
COMMENT ON COLUMN clean.parent_id IS 'parent';
COMMENT ON COLUMN clean.kind IS 'kind';
-- The foreign key is covered by the leading column of a composite index.
CREATE INDEX clean_parent_idx ON clean (parent_id, kind);
ALTER TABLE clean ENABLE ROW LEVEL SECURITY;
CREATE POLICY clean_read ON clean FOR SELECT TO dbschema_app USING (true);
CREATE POLICY clean_write ON clean FOR INSERT TO dbschema_app
    WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid));
CREATE TRIGGER clean_touch BEFORE UPDATE ON clean FOR EACH ROW EXECUTE FUNCTION fixed_path();

CREATE TABLE fk_unindexed (id int PRIMARY KEY, parent_id int REFERENCES parent);
CREATE TABLE no_pk (x int);
CREATE TABLE unused_idx (id int PRIMARY KEY, v int);
CREATE INDEX unused_idx_v ON unused_idx (v);
CREATE TABLE dup_idx (id int PRIMARY KEY, v int);
CREATE INDEX dup_idx_a ON dup_idx (v);
CREATE INDEX dup_idx_b ON dup_idx (v);
CREATE TABLE rls_no_policy (id int PRIMARY KEY);
ALTER TABLE rls_no_policy ENABLE ROW LEVEL SECURITY;
CREATE TABLE policy_no_rls (id int PRIMARY KEY);
CREATE POLICY ignored ON policy_no_rls USING (true);
CREATE TABLE public_no_rls (id int PRIMARY KEY);
CREATE TABLE multi_permissive (id int PRIMARY KEY, tenant_id uuid);
ALTER TABLE multi_permissive ENABLE ROW LEVEL SECURITY;
CREATE POLICY a ON multi_permissive FOR SELECT TO dbschema_app USING (id > 0);
CREATE POLICY b ON multi_permissive FOR ALL TO dbschema_app USING (id < 100);
CREATE TABLE per_row (id int PRIMARY KEY, tenant_id uuid);
ALTER TABLE per_row ENABLE ROW LEVEL SECURITY;
CREATE POLICY per_row_tenant ON per_row FOR ALL TO dbschema_app
    USING (tenant_id = current_setting('app.tenant_id', true)::uuid);
CREATE TABLE always_true (id int PRIMARY KEY);
ALTER TABLE always_true ENABLE ROW LEVEL SECURITY;
CREATE POLICY anyone_inserts ON always_true FOR INSERT TO dbschema_app WITH CHECK (true);
CREATE TABLE mutable_fn (id int PRIMARY KEY);
CREATE TRIGGER mutable_fn_touch BEFORE UPDATE ON mutable_fn FOR EACH ROW EXECUTE FUNCTION mutable_path();
CREATE TABLE no_comments (id int PRIMARY KEY);

-- Scan clean's indexes so that unused_index has nothing to say about them.
INSERT INTO parent SELECT generate_series(1, 10);
INSERT INTO clean SELECT i, gen_random_uuid(), 1 + i % 10, 'k' FROM generate_series(1, 1000) AS i;
SET enable_seqscan = off;
SELECT count(*) FROM clean WHERE parent_id = 3 AND kind = 'k';
SELECT count(*) FROM clean WHERE parent_id = 4;

-- The splinter lints beyond the first twelve: one table (or object) each.
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, raw_user_meta_data jsonb);
CREATE VIEW user_emails AS SELECT id, email FROM auth.users;
CREATE VIEW definer_view AS SELECT id FROM parent;
CREATE TABLE meta_policy (id int PRIMARY KEY);
ALTER TABLE meta_policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY admins ON meta_policy FOR SELECT TO dbschema_app
    USING ((SELECT current_setting('request.jwt.claims', true)::jsonb -> 'user_metadata' ->> 'role') = 'admin');
CREATE TABLE open_secrets (id int PRIMARY KEY, password_hash text);
CREATE EXTENSION citext;
-- The fixture builds an index of broken_idx CONCURRENTLY that fails (1 / 0), then mends the row.
CREATE TABLE broken_idx (id int PRIMARY KEY, v int);
INSERT INTO broken_idx VALUES (1, 0);
CREATE TABLE bloated (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
INSERT INTO bloated SELECT generate_series(1, 10000);
DELETE FROM bloated WHERE id % 2 = 0;
