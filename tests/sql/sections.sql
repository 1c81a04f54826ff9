-- Purpose-built tables: one feature of the card each, so every section is tested on purpose.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'dbschema_app') THEN
        CREATE ROLE dbschema_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'Dbschema Auditor') THEN
        CREATE ROLE "Dbschema Auditor" NOLOGIN;
    END IF;
END $$;

CREATE SCHEMA ops;
CREATE TYPE booking_status AS ENUM ('pending', 'confirmed', 'cancelled');
CREATE DOMAIN e164_phone AS text NOT NULL CHECK (VALUE ~ '^\+[1-9][0-9]{7,14}$');
COMMENT ON DOMAIN e164_phone IS 'A phone number in E.164 form';

CREATE TABLE tenants (
    tenant_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug text NOT NULL UNIQUE
);
COMMENT ON TABLE tenants IS 'One row per hotel.
Second line | with a pipe';

CREATE TABLE bookings (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants ON DELETE CASCADE,
    parent_id bigint REFERENCES bookings (id),
    status booking_status NOT NULL DEFAULT 'pending',
    statuses booking_status[],
    phone e164_phone,
    amount numeric(12,2) CHECK (amount >= 0),
    tags text[] DEFAULT '{}',
    nights int GENERATED ALWAYS AS (coalesce(array_length(tags, 1), 0)) STORED,
    stay tstzrange,
    external_ref text,
    CONSTRAINT bookings_external_ref_key UNIQUE (tenant_id, external_ref),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (stay WITH &&)
);
COMMENT ON COLUMN bookings.amount IS 'Total in COP | pesos';
COMMENT ON COLUMN bookings.external_ref IS 'MotoPress booking id.
Kept as text.';
COMMENT ON CONSTRAINT bookings_no_overlap ON bookings IS 'No double booking';
CREATE INDEX bookings_status_idx ON bookings (status) WHERE status <> 'cancelled';
CREATE INDEX bookings_lower_ref_idx ON bookings (lower(external_ref));
COMMENT ON INDEX bookings_status_idx IS 'Open bookings per status';

CREATE TABLE payments (
    id bigint PRIMARY KEY,
    tenant_id uuid,
    booking_id bigint,
    CONSTRAINT payments_booking_fkey FOREIGN KEY (booking_id) REFERENCES bookings (id)
        MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED
);

ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
ALTER TABLE bookings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bookings AS PERMISSIVE FOR ALL TO dbschema_app
    USING (tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid))
    WITH CHECK (tenant_id = (SELECT current_setting('app.tenant_id', true)::uuid));
COMMENT ON POLICY tenant_isolation ON bookings IS 'Each hotel sees its own bookings';
CREATE POLICY "no deletes" ON bookings AS RESTRICTIVE FOR DELETE TO dbschema_app, "Dbschema Auditor"
    USING (false);
CREATE POLICY read_all ON bookings FOR SELECT USING (true);

-- RLS on without a policy, and policies with RLS off.
CREATE TABLE locked (id int PRIMARY KEY);
ALTER TABLE locked ENABLE ROW LEVEL SECURITY;
CREATE TABLE open_door (id int PRIMARY KEY);
CREATE POLICY ignored ON open_door FOR INSERT WITH CHECK (id > 0);

CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_touch BEFORE UPDATE ON bookings FOR EACH ROW EXECUTE FUNCTION touch();
COMMENT ON TRIGGER bookings_touch ON bookings IS 'Keeps updated_at current';
CREATE TRIGGER bookings_off AFTER INSERT ON bookings FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE bookings DISABLE TRIGGER bookings_off;
CREATE TRIGGER bookings_replica AFTER DELETE ON bookings FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE bookings ENABLE REPLICA TRIGGER bookings_replica;
CREATE TRIGGER bookings_always AFTER DELETE ON bookings FOR EACH STATEMENT EXECUTE FUNCTION touch();
ALTER TABLE bookings ENABLE ALWAYS TRIGGER bookings_always;
CREATE CONSTRAINT TRIGGER bookings_check AFTER INSERT ON bookings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION touch();

-- A table without a primary key, and one nobody analyzed.
CREATE TABLE audit_log (at timestamptz, note text);

-- Partitions: range, list and default.
CREATE TABLE events (id bigint, at date NOT NULL, kind text, PRIMARY KEY (id, at))
    PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_old PARTITION OF events DEFAULT;
INSERT INTO events SELECT i, DATE '2026-01-01' + i % 300, 'k' FROM generate_series(1, 500) AS i;

-- Views.
CREATE VIEW open_bookings AS SELECT id, tenant_id FROM bookings WHERE status = 'pending';
COMMENT ON VIEW open_bookings IS 'Bookings waiting for confirmation';
CREATE MATERIALIZED VIEW booking_counts AS SELECT tenant_id, count(*) AS n FROM bookings GROUP BY tenant_id;

-- Odd identifiers.
CREATE TABLE "Guest Notes" ("Note Text" text, "select" int);
CREATE TABLE reservación (id int PRIMARY KEY, "ñandú" text);
CREATE TABLE ops."odd.name" (id int);
CREATE TABLE ops.tenants (id int);
COMMENT ON TABLE ops.tenants IS 'ops copy, shadowed by public.tenants';

INSERT INTO tenants (tenant_id, slug)
    SELECT md5('t' || i)::uuid, 'hotel-' || i FROM generate_series(1, 25) AS i;
