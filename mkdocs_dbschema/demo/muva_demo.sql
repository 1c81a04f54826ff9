-- =============================================================================
-- MUVA Chat: demo schema and data (integration tables)
-- =============================================================================
--
-- What this is
--   A hand-written, self-contained slice of the MUVA Chat database: the
--   multi-tenant core (tenants, accommodations, units, staff, guest
--   conversations, calendar events) plus every table that connects MUVA to an
--   external platform (MotoPress Hotel Booking, Airbnb iCal, WhatsApp Cloud
--   API) and the generic integration support tables. It is the demo database
--   of the mkdocs-dbschema reference site (docs/reference/).
--
--   ALL SECRETS IN THIS FILE ARE FAKE. Access tokens, app secrets, API keys,
--   webhook secrets, iCal feed tokens, JWTs, phone numbers, e-mail addresses
--   and hotel domains are invented: they follow the shape of the real thing
--   (so that a redaction feature has something to find) and carry FAKE / demo
--   / deadbeef markers. None of them grants access to anything.
--
-- How to load
--   createdb muva_demo
--   psql -v ON_ERROR_STOP=1 -d muva_demo -f muva_demo.sql
--
--   Needs PostgreSQL 13 or later (gen_random_uuid() is built in) and no
--   extension. Roles anon / authenticated / service_role are cluster-wide and
--   are created only if missing, so the file loads into any number of
--   databases of one cluster. Every row uses fixed ids and fixed timestamps:
--   two loads give identical data.
--
-- Deliberate imperfections (a database advisor should report exactly these;
-- they are realistic leftovers, do not "fix" them here):
--   1. Unindexed foreign key: guest_conversations.assigned_staff_id
--      -> staff_users(id) has no covering index.
--   2. Per-row current_setting(): policy tenant_isolation on whatsapp_messages
--      calls current_setting() directly instead of (SELECT current_setting(...)),
--      so it is evaluated for every row instead of once per statement.
--   3. Duplicate index: idx_whatsapp_messages_guest_phone and
--      whatsapp_messages_guest_phone_number_idx are the same btree on
--      whatsapp_messages(guest_phone_number).
--   4. RLS enabled without any policy: airbnb_motopress_comparison (nobody but
--      the table owner can read it).
--   5. Missing column comments: airbnb_mphb_imported_reservations (id,
--      check_in, check_out, booking_status, imported_at, import_error,
--      created_at). Every other column of every table has a comment.
--   6. Mutable search_path: function bump_conversation_last_message() has no
--      SET search_path and names guest_conversations unqualified.
--
-- Conventions
--   * Timestamps are timestamptz; literals are written in Colombia time (-05).
--   * Money is numeric(12,2) in the currency of the row (COP unless stated).
--   * tenant_id is on every tenant-owned table, also where it could be
--     derived, because RLS policies must not join.
--   * Writes from integrations run as service_role; dashboard users run as
--     authenticated with app.tenant_id set by the API for each request.
-- =============================================================================

SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET search_path = public;

-- -----------------------------------------------------------------------------
-- Roles (cluster-wide: create only if missing)
-- -----------------------------------------------------------------------------
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT;
  END IF;
END
$$;

COMMENT ON SCHEMA public IS 'MUVA Chat application schema: multi-tenant core tables and external integration tables.';

-- -----------------------------------------------------------------------------
-- Types
-- -----------------------------------------------------------------------------
CREATE TYPE public.sync_status AS ENUM ('pending', 'running', 'success', 'error');
COMMENT ON TYPE public.sync_status IS 'State of the last synchronisation with an external platform. pending = never run or queued; running = a worker holds it; success / error = outcome of the last finished run.';

CREATE DOMAIN public.e164_phone AS text
  CONSTRAINT e164_phone_check CHECK (VALUE ~ '^\+[1-9][0-9]{7,14}$');
COMMENT ON DOMAIN public.e164_phone IS 'Phone number in E.164 form (+ country code, no spaces). WhatsApp Cloud API sends wa_id without the +; the webhook handler adds it before insert so joins between messages and conversations are exact.';

-- -----------------------------------------------------------------------------
-- Functions
-- -----------------------------------------------------------------------------
CREATE FUNCTION public.set_updated_at()
  RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = ''
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
COMMENT ON FUNCTION public.set_updated_at() IS 'Shared BEFORE UPDATE trigger function: stamps updated_at so sync jobs can find rows changed since their last run. search_path pinned to empty: it only calls pg_catalog.now().';

CREATE FUNCTION public.bump_conversation_last_message()
  RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  IF NEW.conversation_id IS NOT NULL THEN
    UPDATE guest_conversations
       SET last_message_at = greatest(last_message_at, NEW.created_at)
     WHERE id = NEW.conversation_id;
  END IF;
  RETURN NULL;
END;
$$;
COMMENT ON FUNCTION public.bump_conversation_last_message() IS 'AFTER INSERT on whatsapp_messages: moves guest_conversations.last_message_at forward so the staff inbox sorts by latest activity without scanning messages. Known issue: no pinned search_path (tracked for the next migration).';

-- =============================================================================
-- CORE TABLES
-- =============================================================================

-- tenant_registry -------------------------------------------------------------
CREATE TABLE public.tenant_registry (
  tenant_id          uuid        NOT NULL DEFAULT gen_random_uuid(),
  slug               text        NOT NULL,
  business_name      text        NOT NULL,
  legal_name         text,
  nit                text,
  subscription_tier  text        NOT NULL DEFAULT 'free',
  city               text        NOT NULL,
  country_code       char(2)     NOT NULL DEFAULT 'CO',
  timezone           text        NOT NULL DEFAULT 'America/Bogota',
  default_language   text        NOT NULL DEFAULT 'es',
  features           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  is_active          boolean     NOT NULL DEFAULT true,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_registry_pkey PRIMARY KEY (tenant_id),
  CONSTRAINT tenant_registry_slug_key UNIQUE (slug),
  CONSTRAINT tenant_registry_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  CONSTRAINT tenant_registry_subscription_tier_check
    CHECK (subscription_tier IN ('free', 'basic', 'premium', 'enterprise')),
  CONSTRAINT tenant_registry_nit_format CHECK (nit IS NULL OR nit ~ '^[0-9]{9}-[0-9]$')
);
COMMENT ON TABLE public.tenant_registry IS 'One row per hotel business (tenant). Root of tenant isolation: every tenant-owned table references tenant_id with ON DELETE CASCADE, so offboarding a tenant is one DELETE.';
COMMENT ON COLUMN public.tenant_registry.tenant_id IS 'Tenant key. Carried by every tenant-owned row and compared against app.tenant_id in RLS policies.';
COMMENT ON COLUMN public.tenant_registry.slug IS 'URL-safe name used in subdomains (slug.muva.example) and webhook paths. Changing it breaks registered webhooks.';
COMMENT ON COLUMN public.tenant_registry.business_name IS 'Name guests see in chat and on WhatsApp templates.';
COMMENT ON COLUMN public.tenant_registry.legal_name IS 'Registered company name for invoices (razón social).';
COMMENT ON COLUMN public.tenant_registry.nit IS 'Colombian tax id (NIT) with check digit, e.g. 900123456-7.';
COMMENT ON COLUMN public.tenant_registry.subscription_tier IS 'Plan; gates integrations: free = web chat only, basic adds Airbnb iCal, premium adds WhatsApp and Stripe deposits, enterprise adds MotoPress.';
COMMENT ON COLUMN public.tenant_registry.city IS 'City of the main property; used by the assistant for local recommendations.';
COMMENT ON COLUMN public.tenant_registry.country_code IS 'ISO 3166-1 alpha-2 country of the business; drives phone-number defaults.';
COMMENT ON COLUMN public.tenant_registry.timezone IS 'IANA zone used to render check-in times and schedule reminder templates.';
COMMENT ON COLUMN public.tenant_registry.default_language IS 'Language of the assistant when the guest language is unknown.';
COMMENT ON COLUMN public.tenant_registry.features IS 'Feature flags per tenant (beta switches); not configuration secrets, those live in integration_configs.';
COMMENT ON COLUMN public.tenant_registry.is_active IS 'false = suspended (unpaid or offboarding); integrations skip inactive tenants.';
COMMENT ON COLUMN public.tenant_registry.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.tenant_registry.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.tenant_registry_slug_key IS 'Slug is global: it appears in subdomains and webhook URLs.';

-- staff_users -----------------------------------------------------------------
CREATE TABLE public.staff_users (
  id             uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id      uuid        NOT NULL,
  email          text        NOT NULL,
  full_name      text        NOT NULL,
  role           text        NOT NULL DEFAULT 'staff',
  phone          public.e164_phone,
  is_active      boolean     NOT NULL DEFAULT true,
  last_login_at  timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT staff_users_pkey PRIMARY KEY (id),
  CONSTRAINT staff_users_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT staff_users_role_check CHECK (role IN ('owner', 'admin', 'staff')),
  CONSTRAINT staff_users_email_format CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$')
);
COMMENT ON TABLE public.staff_users IS 'Hotel staff who use the MUVA dashboard: answer guest chats, configure integrations.';
COMMENT ON COLUMN public.staff_users.id IS 'Staff user id; equals the auth user id of the dashboard login.';
COMMENT ON COLUMN public.staff_users.tenant_id IS 'Hotel the user works for. A person working for two hotels has two rows.';
COMMENT ON COLUMN public.staff_users.email IS 'Login e-mail. Unique across the platform, case-insensitively (see staff_users_email_lower_key).';
COMMENT ON COLUMN public.staff_users.full_name IS 'Shown to colleagues in conversation assignment.';
COMMENT ON COLUMN public.staff_users.role IS 'owner: billing and integrations; admin: integrations and staff; staff: conversations only.';
COMMENT ON COLUMN public.staff_users.phone IS 'Mobile for escalation alerts (E.164).';
COMMENT ON COLUMN public.staff_users.is_active IS 'false blocks dashboard login without deleting audit references.';
COMMENT ON COLUMN public.staff_users.last_login_at IS 'Last dashboard login; used to prune dormant accounts.';
COMMENT ON COLUMN public.staff_users.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.staff_users.updated_at IS 'Last change; maintained by trigger set_updated_at.';

CREATE UNIQUE INDEX staff_users_email_lower_key ON public.staff_users (lower(email));
COMMENT ON INDEX public.staff_users_email_lower_key IS 'Case-insensitive uniqueness of login e-mails; also serves the login lookup WHERE lower(email) = lower($1).';
CREATE INDEX staff_users_tenant_id_idx ON public.staff_users (tenant_id);
COMMENT ON INDEX public.staff_users_tenant_id_idx IS 'Staff list per hotel; covers the FK to tenant_registry for cascading deletes.';

-- accommodations --------------------------------------------------------------
CREATE TABLE public.accommodations (
  id                  uuid          NOT NULL DEFAULT gen_random_uuid(),
  tenant_id           uuid          NOT NULL,
  name                text          NOT NULL,
  slug                text          NOT NULL,
  accommodation_type  text          NOT NULL,
  description         text,
  city                text          NOT NULL,
  department          text,
  address             text,
  latitude            numeric(9,6),
  longitude           numeric(9,6),
  max_guests          smallint      NOT NULL,
  amenities           text[]        NOT NULL DEFAULT '{}'::text[],
  check_in_time       time          NOT NULL DEFAULT '15:00',
  check_out_time      time          NOT NULL DEFAULT '11:00',
  is_active           boolean       NOT NULL DEFAULT true,
  created_at          timestamptz   NOT NULL DEFAULT now(),
  updated_at          timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT accommodations_pkey PRIMARY KEY (id),
  CONSTRAINT accommodations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT accommodations_tenant_slug_key UNIQUE (tenant_id, slug),
  CONSTRAINT accommodations_type_check
    CHECK (accommodation_type IN ('room', 'suite', 'apartment', 'cabin', 'dorm', 'house')),
  CONSTRAINT accommodations_max_guests_check CHECK (max_guests BETWEEN 1 AND 30),
  CONSTRAINT accommodations_coordinates_check
    CHECK ((latitude IS NULL) = (longitude IS NULL)
           AND (latitude IS NULL OR latitude BETWEEN -90 AND 90)
           AND (longitude IS NULL OR longitude BETWEEN -180 AND 180))
);
COMMENT ON TABLE public.accommodations IS 'Bookable accommodation types of a tenant ("Suite Vista al Mar"): what a guest asks about and what external platforms list. Physical rooms are accommodation_units.';
COMMENT ON COLUMN public.accommodations.id IS 'Accommodation id; target of the MotoPress and Airbnb mappings.';
COMMENT ON COLUMN public.accommodations.tenant_id IS 'Owning hotel.';
COMMENT ON COLUMN public.accommodations.name IS 'Display name in MUVA. May differ from the name on MotoPress or Airbnb; sync compares but never overwrites it.';
COMMENT ON COLUMN public.accommodations.slug IS 'Stable per-tenant identifier used in chat deep links.';
COMMENT ON COLUMN public.accommodations.accommodation_type IS 'Normalised kind; the assistant uses it to answer "do you have apartments?".';
COMMENT ON COLUMN public.accommodations.description IS 'Long description fed to the assistant as context.';
COMMENT ON COLUMN public.accommodations.city IS 'City shown to guests; may differ from the tenant city for multi-property hotels.';
COMMENT ON COLUMN public.accommodations.department IS 'Colombian department (San Andrés y Providencia, Antioquia, Magdalena).';
COMMENT ON COLUMN public.accommodations.address IS 'Street address sent to guests in check-in instructions.';
COMMENT ON COLUMN public.accommodations.latitude IS 'WGS84 latitude; with longitude, used for directions links.';
COMMENT ON COLUMN public.accommodations.longitude IS 'WGS84 longitude; set together with latitude.';
COMMENT ON COLUMN public.accommodations.max_guests IS 'Maximum occupancy of one unit of this type.';
COMMENT ON COLUMN public.accommodations.amenities IS 'Amenity codes (wifi, aire_acondicionado, vista_al_mar...) answered by the assistant.';
COMMENT ON COLUMN public.accommodations.check_in_time IS 'Local check-in time, in the tenant timezone.';
COMMENT ON COLUMN public.accommodations.check_out_time IS 'Local check-out time, in the tenant timezone.';
COMMENT ON COLUMN public.accommodations.is_active IS 'false hides the accommodation from the assistant and from sync mapping lists.';
COMMENT ON COLUMN public.accommodations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.accommodations.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.accommodations_tenant_slug_key IS 'Slugs are unique inside a hotel; two hotels may both have "suite-vista-al-mar".';

-- accommodation_units ---------------------------------------------------------
CREATE TABLE public.accommodation_units (
  id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
  tenant_id          uuid          NOT NULL,
  accommodation_id   uuid          NOT NULL,
  unit_code          text          NOT NULL,
  name               text          NOT NULL,
  floor              smallint,
  capacity_adults    smallint      NOT NULL DEFAULT 2,
  capacity_children  smallint      NOT NULL DEFAULT 0,
  bed_config         jsonb         NOT NULL DEFAULT '{}'::jsonb,
  base_rate          numeric(12,2) NOT NULL,
  currency           char(3)       NOT NULL DEFAULT 'COP',
  is_active          boolean       NOT NULL DEFAULT true,
  created_at         timestamptz   NOT NULL DEFAULT now(),
  updated_at         timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT accommodation_units_pkey PRIMARY KEY (id),
  CONSTRAINT accommodation_units_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT accommodation_units_accommodation_id_fkey FOREIGN KEY (accommodation_id)
    REFERENCES public.accommodations (id) ON DELETE CASCADE,
  CONSTRAINT accommodation_units_accommodation_code_key UNIQUE (accommodation_id, unit_code),
  CONSTRAINT accommodation_units_capacity_check
    CHECK (capacity_adults >= 1 AND capacity_children >= 0),
  CONSTRAINT accommodation_units_base_rate_check CHECK (base_rate >= 0),
  CONSTRAINT accommodation_units_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
COMMENT ON TABLE public.accommodation_units IS 'Physical rooms / units. Calendars (iCal feeds, calendar_events) are per unit, because channels block a unit, not a type.';
COMMENT ON COLUMN public.accommodation_units.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.accommodation_units.tenant_id IS 'Owning hotel (denormalised from accommodations for RLS).';
COMMENT ON COLUMN public.accommodation_units.accommodation_id IS 'Type this unit belongs to.';
COMMENT ON COLUMN public.accommodation_units.unit_code IS 'Door number or code used by staff ("201", "CAB-1").';
COMMENT ON COLUMN public.accommodation_units.name IS 'Display name in the dashboard calendar.';
COMMENT ON COLUMN public.accommodation_units.floor IS 'Floor number; NULL for ground-level cabins and stand-alone units.';
COMMENT ON COLUMN public.accommodation_units.capacity_adults IS 'Adults the unit sleeps.';
COMMENT ON COLUMN public.accommodation_units.capacity_children IS 'Extra children allowed (sofa bed, crib).';
COMMENT ON COLUMN public.accommodation_units.bed_config IS 'Beds by kind, e.g. {"king": 1, "sofa_bed": 1}.';
COMMENT ON COLUMN public.accommodation_units.base_rate IS 'Rack rate per night before season rules, in currency. Quoted by the assistant as "desde".';
COMMENT ON COLUMN public.accommodation_units.currency IS 'ISO 4217 code of base_rate.';
COMMENT ON COLUMN public.accommodation_units.is_active IS 'false = out of service; hidden from availability answers and calendar export.';
COMMENT ON COLUMN public.accommodation_units.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.accommodation_units.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.accommodation_units_accommodation_code_key IS 'No two units of one type share a code; also covers the FK to accommodations.';

CREATE INDEX accommodation_units_tenant_id_idx ON public.accommodation_units (tenant_id);
COMMENT ON INDEX public.accommodation_units_tenant_id_idx IS 'Units per hotel (dashboard calendar); covers the tenant FK.';

-- integration_configs ---------------------------------------------------------
CREATE TABLE public.integration_configs (
  id                uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id         uuid        NOT NULL,
  integration_type  text        NOT NULL,
  display_name      text        NOT NULL,
  config            jsonb       NOT NULL DEFAULT '{}'::jsonb,
  is_active         boolean     NOT NULL DEFAULT true,
  configured_by     uuid,
  last_verified_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT integration_configs_pkey PRIMARY KEY (id),
  CONSTRAINT integration_configs_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT integration_configs_configured_by_fkey FOREIGN KEY (configured_by)
    REFERENCES public.staff_users (id) ON DELETE SET NULL,
  CONSTRAINT integration_configs_tenant_type_key UNIQUE (tenant_id, integration_type),
  CONSTRAINT integration_configs_type_check
    CHECK (integration_type IN ('motopress', 'airbnb', 'whatsapp', 'booking_com', 'stripe')),
  CONSTRAINT integration_configs_config_is_object CHECK (jsonb_typeof(config) = 'object')
);
COMMENT ON TABLE public.integration_configs IS 'Per-tenant settings and credentials of each integration, as one JSON document per (tenant, integration). Holds live secrets: never expose through a view, never log.';
COMMENT ON COLUMN public.integration_configs.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.integration_configs.tenant_id IS 'Owning hotel.';
COMMENT ON COLUMN public.integration_configs.integration_type IS 'Which integration the document configures; one document per type and tenant.';
COMMENT ON COLUMN public.integration_configs.display_name IS 'Label in the integrations screen.';
COMMENT ON COLUMN public.integration_configs.config IS 'Settings and secrets: auth.* (keys, tokens), webhooks[] (url, secret), sync options. Shape differs per integration_type.';
COMMENT ON COLUMN public.integration_configs.is_active IS 'false pauses every job of this integration for the tenant without losing credentials.';
COMMENT ON COLUMN public.integration_configs.configured_by IS 'Staff user who last saved the credentials; kept NULL when that user is deleted.';
COMMENT ON COLUMN public.integration_configs.last_verified_at IS 'Last successful "Test connection"; stale values show a warning in the dashboard.';
COMMENT ON COLUMN public.integration_configs.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.integration_configs.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.integration_configs_tenant_type_key IS 'One configuration document per integration and hotel; also covers the tenant FK.';

CREATE INDEX integration_configs_configured_by_idx ON public.integration_configs (configured_by);
COMMENT ON INDEX public.integration_configs_configured_by_idx IS 'Covers the FK to staff_users so deleting a staff user does not scan this table.';

-- ics_feed_configurations -----------------------------------------------------
CREATE TABLE public.ics_feed_configurations (
  id                    uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id             uuid        NOT NULL,
  accommodation_unit_id uuid        NOT NULL,
  platform              text        NOT NULL,
  direction             text        NOT NULL DEFAULT 'import',
  feed_name             text        NOT NULL,
  feed_url              text        NOT NULL,
  refresh_interval      interval    NOT NULL DEFAULT '01:00:00',
  is_active             boolean     NOT NULL DEFAULT true,
  last_fetched_at       timestamptz,
  last_http_status      smallint,
  last_etag             text,
  consecutive_failures  integer     NOT NULL DEFAULT 0,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ics_feed_configurations_pkey PRIMARY KEY (id),
  CONSTRAINT ics_feed_configurations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT ics_feed_configurations_accommodation_unit_id_fkey FOREIGN KEY (accommodation_unit_id)
    REFERENCES public.accommodation_units (id) ON DELETE CASCADE,
  CONSTRAINT ics_feed_configurations_unit_url_key UNIQUE (accommodation_unit_id, feed_url),
  CONSTRAINT ics_feed_configurations_platform_check
    CHECK (platform IN ('airbnb', 'booking', 'vrbo', 'motopress', 'google', 'other')),
  CONSTRAINT ics_feed_configurations_direction_check CHECK (direction IN ('import', 'export')),
  CONSTRAINT ics_feed_configurations_url_check CHECK (feed_url ~ '^https?://'),
  CONSTRAINT ics_feed_configurations_refresh_check CHECK (refresh_interval >= interval '15 minutes'),
  CONSTRAINT ics_feed_configurations_failures_check CHECK (consecutive_failures >= 0)
);
COMMENT ON TABLE public.ics_feed_configurations IS 'iCalendar feeds per unit: feeds MUVA imports from channels (Airbnb, Booking.com, Vrbo) and feeds MUVA exports to them. The URL itself is the credential.';
COMMENT ON COLUMN public.ics_feed_configurations.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.ics_feed_configurations.tenant_id IS 'Owning hotel.';
COMMENT ON COLUMN public.ics_feed_configurations.accommodation_unit_id IS 'Unit whose calendar the feed describes.';
COMMENT ON COLUMN public.ics_feed_configurations.platform IS 'Channel that publishes (import) or consumes (export) the feed.';
COMMENT ON COLUMN public.ics_feed_configurations.direction IS 'import: MUVA fetches it; export: MUVA serves it and the channel fetches it.';
COMMENT ON COLUMN public.ics_feed_configurations.feed_name IS 'Label shown in the calendar settings.';
COMMENT ON COLUMN public.ics_feed_configurations.feed_url IS 'Full feed URL including its secret query token (?s=, ?t=). Anyone holding it can read the calendar: treat as a secret.';
COMMENT ON COLUMN public.ics_feed_configurations.refresh_interval IS 'Minimum time between fetches; Airbnb rate-limits below ~15 minutes.';
COMMENT ON COLUMN public.ics_feed_configurations.is_active IS 'false pauses the feed (set automatically after 5 consecutive failures).';
COMMENT ON COLUMN public.ics_feed_configurations.last_fetched_at IS 'Last fetch attempt, successful or not.';
COMMENT ON COLUMN public.ics_feed_configurations.last_http_status IS 'HTTP status of the last fetch; 404/410 mean the listing was unlisted or the link regenerated.';
COMMENT ON COLUMN public.ics_feed_configurations.last_etag IS 'ETag of the last 200 response, sent as If-None-Match to skip unchanged feeds.';
COMMENT ON COLUMN public.ics_feed_configurations.consecutive_failures IS 'Failed fetches in a row; the feed is paused and staff alerted at 5.';
COMMENT ON COLUMN public.ics_feed_configurations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.ics_feed_configurations.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.ics_feed_configurations_unit_url_key IS 'The same feed must not be imported twice into one unit (it would double every event); covers the unit FK.';

CREATE INDEX ics_feed_configurations_tenant_id_idx ON public.ics_feed_configurations (tenant_id);
COMMENT ON INDEX public.ics_feed_configurations_tenant_id_idx IS 'Feeds per hotel (calendar settings screen); covers the tenant FK.';
CREATE INDEX ics_feed_configurations_due_idx ON public.ics_feed_configurations (last_fetched_at NULLS FIRST)
  WHERE is_active AND direction = 'import';
COMMENT ON INDEX public.ics_feed_configurations_due_idx IS 'Scheduler: active import feeds, never-fetched first, then by last fetch: the ones due for refresh come first.';

-- calendar_events -------------------------------------------------------------
CREATE TABLE public.calendar_events (
  id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id              uuid        NOT NULL,
  accommodation_unit_id  uuid        NOT NULL,
  ics_feed_id            uuid,
  uid                    text        NOT NULL,
  dtstart                date        NOT NULL,
  dtend                  date        NOT NULL,
  nights                 integer     GENERATED ALWAYS AS (dtend - dtstart) STORED,
  summary                text,
  description            text,
  source                 text        NOT NULL,
  event_status           text        NOT NULL DEFAULT 'confirmed',
  sequence               integer     NOT NULL DEFAULT 0,
  last_seen_at           timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT calendar_events_pkey PRIMARY KEY (id),
  CONSTRAINT calendar_events_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT calendar_events_accommodation_unit_id_fkey FOREIGN KEY (accommodation_unit_id)
    REFERENCES public.accommodation_units (id) ON DELETE CASCADE,
  CONSTRAINT calendar_events_ics_feed_id_fkey FOREIGN KEY (ics_feed_id)
    REFERENCES public.ics_feed_configurations (id) ON DELETE SET NULL,
  CONSTRAINT calendar_events_unit_uid_key UNIQUE (accommodation_unit_id, uid),
  CONSTRAINT calendar_events_dates_check CHECK (dtend > dtstart),
  CONSTRAINT calendar_events_source_check
    CHECK (source IN ('airbnb', 'booking', 'vrbo', 'motopress', 'muva', 'manual')),
  CONSTRAINT calendar_events_status_check
    CHECK (event_status IN ('confirmed', 'tentative', 'cancelled'))
);
COMMENT ON TABLE public.calendar_events IS 'Occupancy per unit, one row per iCalendar VEVENT (imported) or per manual block. The assistant answers availability from this table, never from the channels directly.';
COMMENT ON COLUMN public.calendar_events.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.calendar_events.tenant_id IS 'Owning hotel.';
COMMENT ON COLUMN public.calendar_events.accommodation_unit_id IS 'Blocked unit.';
COMMENT ON COLUMN public.calendar_events.ics_feed_id IS 'Feed the event came from; NULL for manual blocks, and kept NULL when the feed is deleted so history survives.';
COMMENT ON COLUMN public.calendar_events.uid IS 'VEVENT UID exactly as the feed sends it (e.g. ...@airbnb.com). Upsert key together with the unit.';
COMMENT ON COLUMN public.calendar_events.dtstart IS 'VEVENT DTSTART;VALUE=DATE: arrival date.';
COMMENT ON COLUMN public.calendar_events.dtend IS 'VEVENT DTEND;VALUE=DATE: departure date (exclusive, per RFC 5545).';
COMMENT ON COLUMN public.calendar_events.nights IS 'Generated: dtend - dtstart. Stored so occupancy reports can sum it.';
COMMENT ON COLUMN public.calendar_events.summary IS 'VEVENT SUMMARY: "Reserved" (Airbnb booking), "Airbnb (Not available)" (host block), "CLOSED - Not available" (Booking.com).';
COMMENT ON COLUMN public.calendar_events.description IS 'VEVENT DESCRIPTION; Airbnb puts the reservation URL and the last 4 digits of the guest phone here.';
COMMENT ON COLUMN public.calendar_events.source IS 'Channel of origin; muva = exported by MUVA itself, manual = staff block.';
COMMENT ON COLUMN public.calendar_events.event_status IS 'VEVENT STATUS. Events that disappear from a feed are marked cancelled, not deleted.';
COMMENT ON COLUMN public.calendar_events.sequence IS 'VEVENT SEQUENCE; a lower value than stored means a stale feed and is ignored.';
COMMENT ON COLUMN public.calendar_events.last_seen_at IS 'Last fetch in which the event was present in its feed.';
COMMENT ON COLUMN public.calendar_events.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.calendar_events.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.calendar_events_unit_uid_key IS 'Upsert key of the iCal import: a VEVENT UID appears once per unit; covers the unit FK.';

CREATE INDEX calendar_events_tenant_dtstart_idx ON public.calendar_events (tenant_id, dtstart);
COMMENT ON INDEX public.calendar_events_tenant_dtstart_idx IS 'Availability answers: events of a hotel from a given date; covers the tenant FK.';
CREATE INDEX calendar_events_ics_feed_id_idx ON public.calendar_events (ics_feed_id);
COMMENT ON INDEX public.calendar_events_ics_feed_id_idx IS 'Cancels events missing from a refreshed feed; covers the FK to ics_feed_configurations.';

-- guest_conversations ---------------------------------------------------------
CREATE TABLE public.guest_conversations (
  id                 uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id          uuid        NOT NULL,
  accommodation_id   uuid,
  assigned_staff_id  uuid,
  guest_name         text,
  guest_phone        public.e164_phone,
  channel            text        NOT NULL,
  status             text        NOT NULL DEFAULT 'open',
  language           text        NOT NULL DEFAULT 'es',
  tags               text[]      NOT NULL DEFAULT '{}'::text[],
  last_message_at    timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT guest_conversations_pkey PRIMARY KEY (id),
  CONSTRAINT guest_conversations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT guest_conversations_accommodation_id_fkey FOREIGN KEY (accommodation_id)
    REFERENCES public.accommodations (id) ON DELETE SET NULL,
  CONSTRAINT guest_conversations_assigned_staff_id_fkey FOREIGN KEY (assigned_staff_id)
    REFERENCES public.staff_users (id) ON DELETE SET NULL,
  CONSTRAINT guest_conversations_channel_check CHECK (channel IN ('whatsapp', 'web', 'email')),
  CONSTRAINT guest_conversations_status_check CHECK (status IN ('open', 'waiting_guest', 'closed')),
  CONSTRAINT guest_conversations_whatsapp_needs_phone
    CHECK (channel <> 'whatsapp' OR guest_phone IS NOT NULL)
);
COMMENT ON TABLE public.guest_conversations IS 'A guest thread with a hotel, on any channel. WhatsApp messages attach to it by guest_phone.';
COMMENT ON COLUMN public.guest_conversations.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.guest_conversations.tenant_id IS 'Hotel the guest is talking to.';
COMMENT ON COLUMN public.guest_conversations.accommodation_id IS 'Accommodation the guest asked about or booked, once known.';
COMMENT ON COLUMN public.guest_conversations.assigned_staff_id IS 'Staff member handling a handed-over conversation; NULL while the assistant answers.';
COMMENT ON COLUMN public.guest_conversations.guest_name IS 'Name from the WhatsApp profile or the web form.';
COMMENT ON COLUMN public.guest_conversations.guest_phone IS 'Guest number in E.164; join key to whatsapp_messages.guest_phone_number.';
COMMENT ON COLUMN public.guest_conversations.channel IS 'Channel the conversation started on.';
COMMENT ON COLUMN public.guest_conversations.status IS 'open: needs an answer; waiting_guest: answered; closed: done (after check-out or 24 h idle).';
COMMENT ON COLUMN public.guest_conversations.language IS 'Detected guest language; selects template language.';
COMMENT ON COLUMN public.guest_conversations.tags IS 'Free labels from staff or the assistant (reserva, queja, traslado...).';
COMMENT ON COLUMN public.guest_conversations.last_message_at IS 'Maintained by trigger on whatsapp_messages (and by the web chat API); inbox sort key.';
COMMENT ON COLUMN public.guest_conversations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.guest_conversations.updated_at IS 'Last change; maintained by trigger set_updated_at.';

CREATE INDEX guest_conversations_tenant_last_message_idx
  ON public.guest_conversations (tenant_id, last_message_at DESC);
COMMENT ON INDEX public.guest_conversations_tenant_last_message_idx IS 'Staff inbox: conversations of a hotel, latest first; covers the tenant FK.';
CREATE INDEX guest_conversations_guest_phone_idx ON public.guest_conversations (guest_phone);
COMMENT ON INDEX public.guest_conversations_guest_phone_idx IS 'Webhook lookup: find the conversation of an incoming WhatsApp number.';
CREATE INDEX guest_conversations_accommodation_id_idx ON public.guest_conversations (accommodation_id);
COMMENT ON INDEX public.guest_conversations_accommodation_id_idx IS 'Covers the FK to accommodations (ON DELETE SET NULL must find the rows).';

-- =============================================================================
-- MOTOPRESS HOTEL BOOKING (WordPress PMS) - REST API /wp-json/mphb/v1
-- =============================================================================

-- motopress_accommodations ----------------------------------------------------
CREATE TABLE public.motopress_accommodations (
  id                uuid               NOT NULL DEFAULT gen_random_uuid(),
  tenant_id         uuid               NOT NULL,
  accommodation_id  uuid,
  motopress_id      integer            NOT NULL,
  name              text               NOT NULL,
  slug              text,
  post_status       text               NOT NULL DEFAULT 'publish',
  adults            smallint,
  children          smallint,
  size_m2           numeric(6,1),
  bed_type          text,
  facilities        text[]             NOT NULL DEFAULT '{}'::text[],
  base_price        numeric(12,2),
  raw_payload       jsonb,
  sync_status       public.sync_status NOT NULL DEFAULT 'pending',
  last_synced_at    timestamptz,
  sync_error        text,
  created_at        timestamptz        NOT NULL DEFAULT now(),
  updated_at        timestamptz        NOT NULL DEFAULT now(),
  CONSTRAINT motopress_accommodations_pkey PRIMARY KEY (id),
  CONSTRAINT motopress_accommodations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT motopress_accommodations_accommodation_id_fkey FOREIGN KEY (accommodation_id)
    REFERENCES public.accommodations (id) ON DELETE SET NULL,
  CONSTRAINT motopress_accommodations_tenant_motopress_id_key UNIQUE (tenant_id, motopress_id),
  CONSTRAINT motopress_accommodations_motopress_id_check CHECK (motopress_id > 0),
  CONSTRAINT motopress_accommodations_post_status_check
    CHECK (post_status IN ('publish', 'draft', 'private', 'trash')),
  CONSTRAINT motopress_accommodations_error_needs_message
    CHECK (sync_status <> 'error' OR sync_error IS NOT NULL)
);
COMMENT ON TABLE public.motopress_accommodations IS 'MotoPress accommodation types (WordPress post type mphb_room_type) synced from the hotel website, mapped to MUVA accommodations. One-way: MotoPress is the source of truth.';
COMMENT ON COLUMN public.motopress_accommodations.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.motopress_accommodations.tenant_id IS 'Hotel whose WordPress site was synced.';
COMMENT ON COLUMN public.motopress_accommodations.accommodation_id IS 'Mapped MUVA accommodation. NULL until staff maps it (new or draft types), and set back to NULL if the MUVA accommodation is deleted.';
COMMENT ON COLUMN public.motopress_accommodations.motopress_id IS 'WordPress post ID of the accommodation type (GET /wp-json/mphb/v1/accommodation_types/{id}). Never rewrite it: it is the sync key.';
COMMENT ON COLUMN public.motopress_accommodations.name IS 'Title on the MotoPress site at last sync.';
COMMENT ON COLUMN public.motopress_accommodations.slug IS 'WordPress post slug; used to build the public booking link.';
COMMENT ON COLUMN public.motopress_accommodations.post_status IS 'WordPress post status; only publish types are offered by the assistant.';
COMMENT ON COLUMN public.motopress_accommodations.adults IS 'Adults capacity as configured in MotoPress.';
COMMENT ON COLUMN public.motopress_accommodations.children IS 'Children capacity as configured in MotoPress.';
COMMENT ON COLUMN public.motopress_accommodations.size_m2 IS 'Size in square metres (MotoPress "size" field).';
COMMENT ON COLUMN public.motopress_accommodations.bed_type IS 'MotoPress bed type label, free text in the site language.';
COMMENT ON COLUMN public.motopress_accommodations.facilities IS 'Names of the mphb_room_type_facility terms attached to the type.';
COMMENT ON COLUMN public.motopress_accommodations.base_price IS 'Lowest active rate price per night at last sync, in the site currency.';
COMMENT ON COLUMN public.motopress_accommodations.raw_payload IS 'Last API response for this type, kept to debug mapping issues without calling the site again.';
COMMENT ON COLUMN public.motopress_accommodations.sync_status IS 'Outcome of the last sync of this type; error rows are retried by the next run.';
COMMENT ON COLUMN public.motopress_accommodations.last_synced_at IS 'Last successful sync. Rows older than 24 h are re-fetched.';
COMMENT ON COLUMN public.motopress_accommodations.sync_error IS 'Error of the last failed sync (HTTP status and message). Required when sync_status = error.';
COMMENT ON COLUMN public.motopress_accommodations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.motopress_accommodations.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.motopress_accommodations_tenant_motopress_id_key IS 'External id mapping: one row per WordPress post per hotel; target of the composite FK from motopress_accommodation_units; covers the tenant FK.';

CREATE INDEX motopress_accommodations_accommodation_id_idx
  ON public.motopress_accommodations (accommodation_id);
COMMENT ON INDEX public.motopress_accommodations_accommodation_id_idx IS 'Join from accommodations to their MotoPress type; covers the FK.';
CREATE INDEX motopress_accommodations_sync_idx
  ON public.motopress_accommodations (sync_status, last_synced_at);
COMMENT ON INDEX public.motopress_accommodations_sync_idx IS 'Sync scheduler: find error rows and rows not synced in 24 hours.';

-- motopress_accommodation_units -----------------------------------------------
CREATE TABLE public.motopress_accommodation_units (
  id                     uuid               NOT NULL DEFAULT gen_random_uuid(),
  tenant_id              uuid               NOT NULL,
  motopress_id           integer            NOT NULL,
  motopress_type_id      integer            NOT NULL,
  accommodation_unit_id  uuid,
  title                  text               NOT NULL,
  ical_export_url        text,
  ical_import_urls       text[]             NOT NULL DEFAULT '{}'::text[],
  sync_status            public.sync_status NOT NULL DEFAULT 'pending',
  last_synced_at         timestamptz,
  created_at             timestamptz        NOT NULL DEFAULT now(),
  updated_at             timestamptz        NOT NULL DEFAULT now(),
  CONSTRAINT motopress_accommodation_units_pkey PRIMARY KEY (id),
  CONSTRAINT motopress_accommodation_units_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT motopress_accommodation_units_type_fkey FOREIGN KEY (tenant_id, motopress_type_id)
    REFERENCES public.motopress_accommodations (tenant_id, motopress_id)
    ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT motopress_accommodation_units_accommodation_unit_id_fkey FOREIGN KEY (accommodation_unit_id)
    REFERENCES public.accommodation_units (id) ON DELETE SET NULL,
  CONSTRAINT motopress_accommodation_units_tenant_motopress_id_key UNIQUE (tenant_id, motopress_id),
  CONSTRAINT motopress_accommodation_units_motopress_id_check CHECK (motopress_id > 0)
);
COMMENT ON TABLE public.motopress_accommodation_units IS 'MotoPress accommodations (post type mphb_room: the physical units of a type) mapped to MUVA accommodation_units. Also records the MotoPress iCal links of each unit.';
COMMENT ON COLUMN public.motopress_accommodation_units.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.motopress_accommodation_units.tenant_id IS 'Hotel whose WordPress site was synced.';
COMMENT ON COLUMN public.motopress_accommodation_units.motopress_id IS 'WordPress post ID of the unit (GET /wp-json/mphb/v1/accommodations/{id}). Sync key: never rewrite.';
COMMENT ON COLUMN public.motopress_accommodation_units.motopress_type_id IS 'accommodation_type_id of the unit in the API response. References motopress_accommodations by (tenant_id, motopress_id) with ON UPDATE CASCADE: after a WordPress export/import that renumbers posts, correcting the type id once moves its units along.';
COMMENT ON COLUMN public.motopress_accommodation_units.accommodation_unit_id IS 'Mapped MUVA unit; NULL until mapped.';
COMMENT ON COLUMN public.motopress_accommodation_units.title IS 'Unit title on the MotoPress site ("Suite Vista al Mar 1").';
COMMENT ON COLUMN public.motopress_accommodation_units.ical_export_url IS 'MotoPress "Export" calendar URL of the unit (Bookings > Sync Calendars), given to OTAs.';
COMMENT ON COLUMN public.motopress_accommodation_units.ical_import_urls IS 'OTA calendars MotoPress imports for this unit. Contain feed tokens: secrets.';
COMMENT ON COLUMN public.motopress_accommodation_units.sync_status IS 'Outcome of the last sync of this unit.';
COMMENT ON COLUMN public.motopress_accommodation_units.last_synced_at IS 'Last successful sync of this unit.';
COMMENT ON COLUMN public.motopress_accommodation_units.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.motopress_accommodation_units.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.motopress_accommodation_units_tenant_motopress_id_key IS 'External id mapping: one row per mphb_room post per hotel; covers the tenant FK.';

CREATE INDEX motopress_accommodation_units_type_idx
  ON public.motopress_accommodation_units (tenant_id, motopress_type_id);
COMMENT ON INDEX public.motopress_accommodation_units_type_idx IS 'Units of a MotoPress type; covers the composite FK so ON UPDATE / ON DELETE CASCADE from motopress_accommodations is an index lookup.';
CREATE INDEX motopress_accommodation_units_accommodation_unit_id_idx
  ON public.motopress_accommodation_units (accommodation_unit_id);
COMMENT ON INDEX public.motopress_accommodation_units_accommodation_unit_id_idx IS 'Reverse mapping MUVA unit -> MotoPress unit (booking push-back); covers the FK.';

-- motopress_room_types --------------------------------------------------------
CREATE TABLE public.motopress_room_types (
  id                  uuid          NOT NULL DEFAULT gen_random_uuid(),
  tenant_id           uuid          NOT NULL,
  motopress_term_id   integer       NOT NULL,
  name                text          NOT NULL,
  slug                text          NOT NULL,
  muva_room_category  text          NOT NULL,
  default_rate_id     integer,
  default_rate_title  text,
  base_rate           numeric(12,2),
  currency            char(3)       NOT NULL DEFAULT 'COP',
  bot_aliases         text[]        NOT NULL DEFAULT '{}'::text[],
  is_active           boolean       NOT NULL DEFAULT true,
  created_at          timestamptz   NOT NULL DEFAULT now(),
  updated_at          timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT motopress_room_types_pkey PRIMARY KEY (id),
  CONSTRAINT motopress_room_types_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT motopress_room_types_tenant_term_key UNIQUE (tenant_id, motopress_term_id),
  CONSTRAINT motopress_room_types_category_check
    CHECK (muva_room_category IN ('standard', 'superior', 'suite', 'family', 'dorm', 'apartment')),
  CONSTRAINT motopress_room_types_base_rate_check CHECK (base_rate IS NULL OR base_rate >= 0),
  CONSTRAINT motopress_room_types_rate_pair_check
    CHECK ((default_rate_id IS NULL) = (default_rate_title IS NULL))
);
COMMENT ON TABLE public.motopress_room_types IS 'Tenant-specific mapping of MotoPress accommodation-type categories (taxonomy mphb_room_type_category) to the normalised room categories the MUVA assistant reasons with, plus the rate it quotes by default.';
COMMENT ON COLUMN public.motopress_room_types.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.motopress_room_types.tenant_id IS 'Hotel the mapping belongs to; categories differ per site.';
COMMENT ON COLUMN public.motopress_room_types.motopress_term_id IS 'WordPress term ID of the category (GET /wp-json/mphb/v1/accommodation_types/categories). Sync key.';
COMMENT ON COLUMN public.motopress_room_types.name IS 'Category name on the site ("Suites", "Cabañas").';
COMMENT ON COLUMN public.motopress_room_types.slug IS 'WordPress term slug.';
COMMENT ON COLUMN public.motopress_room_types.muva_room_category IS 'Normalised category chosen by staff; lets the assistant answer "¿tienen suites?" the same way for every hotel.';
COMMENT ON COLUMN public.motopress_room_types.default_rate_id IS 'WordPress post ID of the MotoPress rate (mphb_rate) quoted by default.';
COMMENT ON COLUMN public.motopress_room_types.default_rate_title IS 'Title of that rate at last sync ("Tarifa flexible").';
COMMENT ON COLUMN public.motopress_room_types.base_rate IS 'Lowest nightly price of the default rate at last sync.';
COMMENT ON COLUMN public.motopress_room_types.currency IS 'ISO 4217 currency of the MotoPress site.';
COMMENT ON COLUMN public.motopress_room_types.bot_aliases IS 'Words guests use for this category, matched by the assistant ("cabaña", "bungalow").';
COMMENT ON COLUMN public.motopress_room_types.is_active IS 'false hides the category from the assistant without deleting the mapping.';
COMMENT ON COLUMN public.motopress_room_types.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.motopress_room_types.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.motopress_room_types_tenant_term_key IS 'External id mapping: one row per category term per hotel; covers the tenant FK.';

-- motopress_sync_log ----------------------------------------------------------
CREATE TABLE public.motopress_sync_log (
  id                          bigint             GENERATED ALWAYS AS IDENTITY,
  tenant_id                   uuid               NOT NULL,
  motopress_accommodation_id  uuid,
  operation                   text               NOT NULL,
  http_method                 text               NOT NULL DEFAULT 'GET',
  endpoint                    text               NOT NULL,
  http_status                 smallint,
  sync_status                 public.sync_status NOT NULL,
  items_fetched               integer            NOT NULL DEFAULT 0,
  items_created               integer            NOT NULL DEFAULT 0,
  items_updated               integer            NOT NULL DEFAULT 0,
  duration_ms                 integer,
  error_message               text,
  created_at                  timestamptz        NOT NULL DEFAULT now(),
  CONSTRAINT motopress_sync_log_pkey PRIMARY KEY (id),
  CONSTRAINT motopress_sync_log_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT motopress_sync_log_motopress_accommodation_id_fkey FOREIGN KEY (motopress_accommodation_id)
    REFERENCES public.motopress_accommodations (id) ON DELETE SET NULL,
  CONSTRAINT motopress_sync_log_operation_check
    CHECK (operation IN ('accommodation_types', 'accommodations', 'bookings', 'rates', 'webhook')),
  CONSTRAINT motopress_sync_log_http_method_check
    CHECK (http_method IN ('GET', 'POST', 'PUT', 'DELETE')),
  CONSTRAINT motopress_sync_log_counts_check
    CHECK (items_fetched >= 0 AND items_created >= 0 AND items_updated >= 0)
);
COMMENT ON TABLE public.motopress_sync_log IS 'Append-only audit trail of every MotoPress API call made by a sync (manual or webhook-triggered). Read when a hotel reports missing rooms or bookings.';
COMMENT ON COLUMN public.motopress_sync_log.id IS 'Identity; insertion order.';
COMMENT ON COLUMN public.motopress_sync_log.tenant_id IS 'Hotel whose site was called.';
COMMENT ON COLUMN public.motopress_sync_log.motopress_accommodation_id IS 'Accommodation type the call was about; NULL for site-wide calls (list endpoints) and after the type is deleted, so the log survives.';
COMMENT ON COLUMN public.motopress_sync_log.operation IS 'Resource synced: accommodation_types, accommodations (units), bookings, rates, or an inbound webhook.';
COMMENT ON COLUMN public.motopress_sync_log.http_method IS 'HTTP method of the call.';
COMMENT ON COLUMN public.motopress_sync_log.endpoint IS 'Path and query called, without host and without credentials.';
COMMENT ON COLUMN public.motopress_sync_log.http_status IS 'HTTP status returned by the WordPress site; NULL on network error.';
COMMENT ON COLUMN public.motopress_sync_log.sync_status IS 'Outcome of the call.';
COMMENT ON COLUMN public.motopress_sync_log.items_fetched IS 'Items in the response.';
COMMENT ON COLUMN public.motopress_sync_log.items_created IS 'Mapping rows inserted.';
COMMENT ON COLUMN public.motopress_sync_log.items_updated IS 'Mapping rows changed.';
COMMENT ON COLUMN public.motopress_sync_log.duration_ms IS 'Wall time of the call in milliseconds.';
COMMENT ON COLUMN public.motopress_sync_log.error_message IS 'Error body returned by the site, truncated to 2 kB. May echo credentials: redact before sharing.';
COMMENT ON COLUMN public.motopress_sync_log.created_at IS 'When the call finished.';

CREATE INDEX motopress_sync_log_accommodation_created_idx
  ON public.motopress_sync_log (motopress_accommodation_id, created_at DESC);
COMMENT ON INDEX public.motopress_sync_log_accommodation_created_idx IS 'Sync history of one accommodation type, newest first; covers the FK.';
CREATE INDEX motopress_sync_log_tenant_created_idx
  ON public.motopress_sync_log (tenant_id, created_at DESC);
COMMENT ON INDEX public.motopress_sync_log_tenant_created_idx IS 'Sync history of a hotel and retention deletes by date; covers the tenant FK.';

-- =============================================================================
-- AIRBNB (iCalendar feeds)
-- =============================================================================

-- airbnb_accommodations -------------------------------------------------------
CREATE TABLE public.airbnb_accommodations (
  id                     uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id              uuid        NOT NULL,
  accommodation_id       uuid        NOT NULL,
  accommodation_unit_id  uuid,
  airbnb_id              text        NOT NULL,
  listing_title          text        NOT NULL,
  listing_url            text        GENERATED ALWAYS AS ('https://www.airbnb.com/rooms/' || airbnb_id) STORED,
  host_display_name      text,
  ics_feed_url           text        NOT NULL,
  sync_direction         text        NOT NULL DEFAULT 'two_way',
  is_active              boolean     NOT NULL DEFAULT true,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT airbnb_accommodations_pkey PRIMARY KEY (id),
  CONSTRAINT airbnb_accommodations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT airbnb_accommodations_accommodation_id_fkey FOREIGN KEY (accommodation_id)
    REFERENCES public.accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_accommodations_accommodation_unit_id_fkey FOREIGN KEY (accommodation_unit_id)
    REFERENCES public.accommodation_units (id) ON DELETE SET NULL,
  CONSTRAINT airbnb_accommodations_tenant_airbnb_id_key UNIQUE (tenant_id, airbnb_id),
  CONSTRAINT airbnb_accommodations_airbnb_id_check CHECK (airbnb_id ~ '^[0-9]{5,20}$'),
  CONSTRAINT airbnb_accommodations_ics_url_check
    CHECK (ics_feed_url ~ '^https://www\.airbnb\.[a-z.]+/calendar/ical/[0-9]+\.ics\?'),
  CONSTRAINT airbnb_accommodations_sync_direction_check
    CHECK (sync_direction IN ('import', 'export', 'two_way'))
);
COMMENT ON TABLE public.airbnb_accommodations IS 'Airbnb listings linked to MUVA accommodations. Airbnb offers no public API to small hosts, so the link is the listing id plus the listing''s iCal export URL.';
COMMENT ON COLUMN public.airbnb_accommodations.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.airbnb_accommodations.tenant_id IS 'Hotel that owns the listing.';
COMMENT ON COLUMN public.airbnb_accommodations.accommodation_id IS 'MUVA accommodation the listing sells; deleting it removes the link.';
COMMENT ON COLUMN public.airbnb_accommodations.accommodation_unit_id IS 'Physical unit the listing blocks; events from the feed are written to this unit.';
COMMENT ON COLUMN public.airbnb_accommodations.airbnb_id IS 'Airbnb listing id from /rooms/{id}. Text, not bigint: recent 18-digit ids lose precision in JavaScript clients.';
COMMENT ON COLUMN public.airbnb_accommodations.listing_title IS 'Listing title on Airbnb, entered by staff (not fetched).';
COMMENT ON COLUMN public.airbnb_accommodations.listing_url IS 'Generated public listing URL.';
COMMENT ON COLUMN public.airbnb_accommodations.host_display_name IS 'Host name shown on the listing; staff use it to tell co-hosted listings apart.';
COMMENT ON COLUMN public.airbnb_accommodations.ics_feed_url IS 'Airbnb "Export calendar" URL with its ?s= token. Secret: anyone with it sees the occupancy. Regenerated by Airbnb when the host resets it.';
COMMENT ON COLUMN public.airbnb_accommodations.sync_direction IS 'import: read Airbnb feed; export: Airbnb reads the MUVA feed; two_way: both.';
COMMENT ON COLUMN public.airbnb_accommodations.is_active IS 'false stops calendar sync for the listing (snoozed or unlisted).';
COMMENT ON COLUMN public.airbnb_accommodations.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.airbnb_accommodations.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.airbnb_accommodations_tenant_airbnb_id_key IS 'External id mapping: a listing is linked once per hotel; covers the tenant FK.';

CREATE INDEX airbnb_accommodations_accommodation_id_idx ON public.airbnb_accommodations (accommodation_id);
COMMENT ON INDEX public.airbnb_accommodations_accommodation_id_idx IS 'Listings of an accommodation; covers the FK.';
CREATE INDEX airbnb_accommodations_accommodation_unit_id_idx ON public.airbnb_accommodations (accommodation_unit_id);
COMMENT ON INDEX public.airbnb_accommodations_accommodation_unit_id_idx IS 'Covers the FK to accommodation_units (ON DELETE SET NULL).';

-- airbnb_calendar_sync_status -------------------------------------------------
CREATE TABLE public.airbnb_calendar_sync_status (
  id                       uuid               NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                uuid               NOT NULL,
  airbnb_accommodation_id  uuid               NOT NULL,
  sync_status              public.sync_status NOT NULL DEFAULT 'pending',
  last_synced_at           timestamptz,
  last_attempt_at          timestamptz,
  next_sync_at             timestamptz,
  consecutive_failures     integer            NOT NULL DEFAULT 0,
  events_in_feed           integer,
  last_error               text,
  created_at               timestamptz        NOT NULL DEFAULT now(),
  updated_at               timestamptz        NOT NULL DEFAULT now(),
  CONSTRAINT airbnb_calendar_sync_status_pkey PRIMARY KEY (id),
  CONSTRAINT airbnb_calendar_sync_status_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT airbnb_calendar_sync_status_airbnb_accommodation_id_fkey FOREIGN KEY (airbnb_accommodation_id)
    REFERENCES public.airbnb_accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_calendar_sync_status_listing_key UNIQUE (airbnb_accommodation_id),
  CONSTRAINT airbnb_calendar_sync_status_failures_check CHECK (consecutive_failures >= 0)
);
COMMENT ON TABLE public.airbnb_calendar_sync_status IS 'Current calendar-sync state, exactly one row per Airbnb listing, updated in place by the hourly job. History is in airbnb_sync_log.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.tenant_id IS 'Hotel that owns the listing.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.airbnb_accommodation_id IS 'Listing this state belongs to (unique).';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.sync_status IS 'State of the latest run; running rows older than 10 minutes are considered dead and retried.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.last_synced_at IS 'Last successful fetch and apply. Older than 2 hours = stale calendar.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.last_attempt_at IS 'Last attempt, successful or not.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.next_sync_at IS 'Earliest next attempt; grows with back-off after failures.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.consecutive_failures IS 'Failures in a row; drives back-off and the staff alert.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.events_in_feed IS 'VEVENTs in the last successful feed; a sudden drop to 0 usually means a regenerated URL.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.last_error IS 'Error of the last failed attempt.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.airbnb_calendar_sync_status.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.airbnb_calendar_sync_status_listing_key IS 'Exactly one state row per listing (upsert target); covers the FK.';

CREATE INDEX airbnb_calendar_sync_status_tenant_id_idx ON public.airbnb_calendar_sync_status (tenant_id);
COMMENT ON INDEX public.airbnb_calendar_sync_status_tenant_id_idx IS 'Sync health per hotel (integrations screen); covers the tenant FK.';
CREATE INDEX airbnb_calendar_sync_status_last_synced_idx ON public.airbnb_calendar_sync_status (last_synced_at);
COMMENT ON INDEX public.airbnb_calendar_sync_status_last_synced_idx IS 'Stale-calendar check: listings not synced for 2 hours.';
CREATE INDEX airbnb_calendar_sync_status_errors_idx ON public.airbnb_calendar_sync_status (last_attempt_at)
  WHERE sync_status = 'error';
COMMENT ON INDEX public.airbnb_calendar_sync_status_errors_idx IS 'Partial: only listings in error, ordered by last attempt; the retry job and the alert query read just these few rows.';

-- airbnb_sync_log -------------------------------------------------------------
CREATE TABLE public.airbnb_sync_log (
  id                       bigint             GENERATED ALWAYS AS IDENTITY,
  tenant_id                uuid               NOT NULL,
  airbnb_accommodation_id  uuid,
  sync_status              public.sync_status NOT NULL,
  triggered_by             text               NOT NULL DEFAULT 'cron',
  http_status              smallint,
  events_in_feed           integer,
  events_created           integer            NOT NULL DEFAULT 0,
  events_updated           integer            NOT NULL DEFAULT 0,
  events_cancelled         integer            NOT NULL DEFAULT 0,
  duration_ms              integer,
  error_message            text,
  created_at               timestamptz        NOT NULL DEFAULT now(),
  CONSTRAINT airbnb_sync_log_pkey PRIMARY KEY (id),
  CONSTRAINT airbnb_sync_log_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT airbnb_sync_log_airbnb_accommodation_id_fkey FOREIGN KEY (airbnb_accommodation_id)
    REFERENCES public.airbnb_accommodations (id) ON DELETE SET NULL,
  CONSTRAINT airbnb_sync_log_triggered_by_check CHECK (triggered_by IN ('cron', 'manual', 'webhook')),
  CONSTRAINT airbnb_sync_log_counts_check
    CHECK (events_created >= 0 AND events_updated >= 0 AND events_cancelled >= 0)
);
COMMENT ON TABLE public.airbnb_sync_log IS 'Append-only log of every Airbnb iCal fetch: what the feed contained and what changed in calendar_events.';
COMMENT ON COLUMN public.airbnb_sync_log.id IS 'Identity; insertion order.';
COMMENT ON COLUMN public.airbnb_sync_log.tenant_id IS 'Hotel that owns the listing.';
COMMENT ON COLUMN public.airbnb_sync_log.airbnb_accommodation_id IS 'Listing fetched; NULL after the listing is unlinked, so the audit trail survives.';
COMMENT ON COLUMN public.airbnb_sync_log.sync_status IS 'Outcome of the fetch (success or error; running is never logged).';
COMMENT ON COLUMN public.airbnb_sync_log.triggered_by IS 'cron = hourly job; manual = "Sync now" button.';
COMMENT ON COLUMN public.airbnb_sync_log.http_status IS 'HTTP status of the feed request; 304 when the ETag matched.';
COMMENT ON COLUMN public.airbnb_sync_log.events_in_feed IS 'VEVENTs parsed from the feed.';
COMMENT ON COLUMN public.airbnb_sync_log.events_created IS 'calendar_events inserted.';
COMMENT ON COLUMN public.airbnb_sync_log.events_updated IS 'calendar_events whose dates or summary changed.';
COMMENT ON COLUMN public.airbnb_sync_log.events_cancelled IS 'calendar_events missing from the feed, marked cancelled.';
COMMENT ON COLUMN public.airbnb_sync_log.duration_ms IS 'Fetch plus apply time in milliseconds.';
COMMENT ON COLUMN public.airbnb_sync_log.error_message IS 'Error text; may include the feed URL, so treat as sensitive.';
COMMENT ON COLUMN public.airbnb_sync_log.created_at IS 'When the fetch finished.';

CREATE INDEX airbnb_sync_log_listing_created_idx
  ON public.airbnb_sync_log (airbnb_accommodation_id, created_at DESC);
COMMENT ON INDEX public.airbnb_sync_log_listing_created_idx IS 'History of one listing, newest first; covers the FK.';
CREATE INDEX airbnb_sync_log_tenant_created_idx ON public.airbnb_sync_log (tenant_id, created_at DESC);
COMMENT ON INDEX public.airbnb_sync_log_tenant_created_idx IS 'History of a hotel; covers the tenant FK.';
CREATE INDEX airbnb_sync_log_status_created_idx ON public.airbnb_sync_log (sync_status, created_at DESC);
COMMENT ON INDEX public.airbnb_sync_log_status_created_idx IS 'Recent errors across all tenants (support dashboard, alerting).';

-- airbnb_mphb_imported_reservations -------------------------------------------
CREATE TABLE public.airbnb_mphb_imported_reservations (
  id                               uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                        uuid        NOT NULL,
  airbnb_accommodation_id          uuid        NOT NULL,
  motopress_accommodation_unit_id  uuid,
  calendar_event_id                uuid,
  ical_uid                         text        NOT NULL,
  mphb_booking_id                  integer,
  check_in                         date        NOT NULL,
  check_out                        date        NOT NULL,
  booking_status                   text        NOT NULL DEFAULT 'pending',
  imported_at                      timestamptz,
  import_error                     text,
  created_at                       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT airbnb_mphb_imported_reservations_pkey PRIMARY KEY (id),
  CONSTRAINT airbnb_mphb_imported_reservations_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT airbnb_mphb_imported_reservations_airbnb_accommodation_id_fkey FOREIGN KEY (airbnb_accommodation_id)
    REFERENCES public.airbnb_accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_mphb_imported_reservations_mp_unit_fkey FOREIGN KEY (motopress_accommodation_unit_id)
    REFERENCES public.motopress_accommodation_units (id) ON DELETE SET NULL,
  CONSTRAINT airbnb_mphb_imported_reservations_calendar_event_id_fkey FOREIGN KEY (calendar_event_id)
    REFERENCES public.calendar_events (id) ON DELETE SET NULL,
  CONSTRAINT airbnb_mphb_imported_reservations_listing_uid_key UNIQUE (airbnb_accommodation_id, ical_uid),
  CONSTRAINT airbnb_mphb_imported_reservations_dates_check CHECK (check_out > check_in),
  CONSTRAINT airbnb_mphb_imported_reservations_status_check
    CHECK (booking_status IN ('confirmed', 'pending', 'cancelled', 'abandoned'))
);
COMMENT ON TABLE public.airbnb_mphb_imported_reservations IS 'Airbnb reservations pushed into MotoPress as bookings (POST /wp-json/mphb/v1/bookings) for hotels whose website must block Airbnb dates. Feature built but never enabled: empty in production.';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.tenant_id IS 'Hotel owning both the listing and the MotoPress site.';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.airbnb_accommodation_id IS 'Listing whose feed contained the reservation.';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.motopress_accommodation_unit_id IS 'MotoPress unit booked (reserved_accommodations[].accommodation).';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.calendar_event_id IS 'The MUVA calendar event the booking was created from.';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.ical_uid IS 'VEVENT UID from the Airbnb feed; idempotency key of the push.';
COMMENT ON COLUMN public.airbnb_mphb_imported_reservations.mphb_booking_id IS 'WordPress post ID of the booking MotoPress created; NULL until the POST succeeded.';
COMMENT ON INDEX public.airbnb_mphb_imported_reservations_listing_uid_key IS 'Idempotency of the MotoPress push: one booking per Airbnb reservation UID; covers the listing FK.';

CREATE INDEX airbnb_mphb_imported_reservations_tenant_id_idx
  ON public.airbnb_mphb_imported_reservations (tenant_id);
COMMENT ON INDEX public.airbnb_mphb_imported_reservations_tenant_id_idx IS 'Covers the tenant FK.';
CREATE INDEX airbnb_mphb_imported_reservations_mp_unit_idx
  ON public.airbnb_mphb_imported_reservations (motopress_accommodation_unit_id);
COMMENT ON INDEX public.airbnb_mphb_imported_reservations_mp_unit_idx IS 'Covers the FK to motopress_accommodation_units.';
CREATE INDEX airbnb_mphb_imported_reservations_calendar_event_idx
  ON public.airbnb_mphb_imported_reservations (calendar_event_id);
COMMENT ON INDEX public.airbnb_mphb_imported_reservations_calendar_event_idx IS 'Covers the FK to calendar_events.';

-- airbnb_motopress_comparison -------------------------------------------------
CREATE TABLE public.airbnb_motopress_comparison (
  id                               uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                        uuid        NOT NULL,
  accommodation_id                 uuid        NOT NULL,
  airbnb_accommodation_id          uuid        NOT NULL,
  motopress_accommodation_id       uuid        NOT NULL,
  window_start                     date        NOT NULL,
  window_end                       date        NOT NULL,
  only_in_airbnb                   date[]      NOT NULL DEFAULT '{}'::date[],
  only_in_motopress                date[]      NOT NULL DEFAULT '{}'::date[],
  mismatch_count                   integer     GENERATED ALWAYS AS
                                     (cardinality(only_in_airbnb) + cardinality(only_in_motopress)) STORED,
  report                           jsonb,
  compared_at                      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT airbnb_motopress_comparison_pkey PRIMARY KEY (id),
  CONSTRAINT airbnb_motopress_comparison_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT airbnb_motopress_comparison_accommodation_id_fkey FOREIGN KEY (accommodation_id)
    REFERENCES public.accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_motopress_comparison_airbnb_accommodation_id_fkey FOREIGN KEY (airbnb_accommodation_id)
    REFERENCES public.airbnb_accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_motopress_comparison_motopress_accommodation_id_fkey FOREIGN KEY (motopress_accommodation_id)
    REFERENCES public.motopress_accommodations (id) ON DELETE CASCADE,
  CONSTRAINT airbnb_motopress_comparison_window_check CHECK (window_end > window_start)
);
COMMENT ON TABLE public.airbnb_motopress_comparison IS 'Snapshot reports comparing blocked dates on Airbnb with bookings on MotoPress for the same accommodation, to catch double bookings. Written by an on-demand support script; empty in production.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.tenant_id IS 'Hotel compared.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.accommodation_id IS 'MUVA accommodation both sides map to.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.airbnb_accommodation_id IS 'Airbnb side of the comparison.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.motopress_accommodation_id IS 'MotoPress side of the comparison.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.window_start IS 'First night compared.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.window_end IS 'Day after the last night compared (exclusive).';
COMMENT ON COLUMN public.airbnb_motopress_comparison.only_in_airbnb IS 'Nights blocked on Airbnb but free on MotoPress (overbooking risk on the website).';
COMMENT ON COLUMN public.airbnb_motopress_comparison.only_in_motopress IS 'Nights booked on MotoPress but open on Airbnb (overbooking risk on Airbnb).';
COMMENT ON COLUMN public.airbnb_motopress_comparison.mismatch_count IS 'Generated: total mismatching nights.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.report IS 'Per-night detail with event UIDs and booking ids.';
COMMENT ON COLUMN public.airbnb_motopress_comparison.compared_at IS 'When the script ran.';

CREATE INDEX airbnb_motopress_comparison_tenant_compared_idx
  ON public.airbnb_motopress_comparison (tenant_id, compared_at DESC);
COMMENT ON INDEX public.airbnb_motopress_comparison_tenant_compared_idx IS 'Latest reports of a hotel; covers the tenant FK.';
CREATE INDEX airbnb_motopress_comparison_accommodation_id_idx
  ON public.airbnb_motopress_comparison (accommodation_id);
COMMENT ON INDEX public.airbnb_motopress_comparison_accommodation_id_idx IS 'Covers the FK to accommodations.';
CREATE INDEX airbnb_motopress_comparison_airbnb_accommodation_id_idx
  ON public.airbnb_motopress_comparison (airbnb_accommodation_id);
COMMENT ON INDEX public.airbnb_motopress_comparison_airbnb_accommodation_id_idx IS 'Covers the FK to airbnb_accommodations.';
CREATE INDEX airbnb_motopress_comparison_motopress_accommodation_id_idx
  ON public.airbnb_motopress_comparison (motopress_accommodation_id);
COMMENT ON INDEX public.airbnb_motopress_comparison_motopress_accommodation_id_idx IS 'Covers the FK to motopress_accommodations.';

-- =============================================================================
-- WHATSAPP BUSINESS (Cloud API, graph.facebook.com)
-- =============================================================================

-- whatsapp_business_accounts --------------------------------------------------
CREATE TABLE public.whatsapp_business_accounts (
  id                          uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                   uuid        NOT NULL,
  waba_id                     text        NOT NULL,
  business_account_name       text        NOT NULL,
  meta_business_id            text,
  app_id                      text        NOT NULL,
  access_token                text        NOT NULL,
  token_type                  text        NOT NULL DEFAULT 'system_user',
  token_expires_at            timestamptz,
  app_secret                  text        NOT NULL,
  webhook_verify_token        text        NOT NULL,
  webhook_callback_url        text        NOT NULL,
  message_template_namespace  text,
  is_active                   boolean     NOT NULL DEFAULT true,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT whatsapp_business_accounts_pkey PRIMARY KEY (id),
  CONSTRAINT whatsapp_business_accounts_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_business_accounts_tenant_waba_key UNIQUE (tenant_id, waba_id),
  CONSTRAINT whatsapp_business_accounts_waba_id_check CHECK (waba_id ~ '^[0-9]{15,17}$'),
  CONSTRAINT whatsapp_business_accounts_app_id_check CHECK (app_id ~ '^[0-9]{15,17}$'),
  CONSTRAINT whatsapp_business_accounts_token_type_check CHECK (token_type IN ('system_user', 'user')),
  CONSTRAINT whatsapp_business_accounts_token_expiry_check
    CHECK (token_type = 'system_user' OR token_expires_at IS NOT NULL)
);
COMMENT ON TABLE public.whatsapp_business_accounts IS 'WhatsApp Business Accounts (WABA) connected through Meta embedded signup, one or more per tenant, with the credentials MUVA uses to call the Cloud API and verify webhooks.';
COMMENT ON COLUMN public.whatsapp_business_accounts.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.whatsapp_business_accounts.tenant_id IS 'Hotel that connected the account.';
COMMENT ON COLUMN public.whatsapp_business_accounts.waba_id IS 'WhatsApp Business Account id (numeric string), as in GET /{waba_id}/phone_numbers. Never rewrite it: templates and numbers hang off it at Meta.';
COMMENT ON COLUMN public.whatsapp_business_accounts.business_account_name IS 'WABA name in Meta Business Manager.';
COMMENT ON COLUMN public.whatsapp_business_accounts.meta_business_id IS 'Meta Business portfolio id that owns the WABA.';
COMMENT ON COLUMN public.whatsapp_business_accounts.app_id IS 'Meta app id whose webhooks deliver this WABA''s events.';
COMMENT ON COLUMN public.whatsapp_business_accounts.access_token IS 'Graph API bearer token (EAAG...). System-user tokens do not expire; user tokens last ~60 days. Secret.';
COMMENT ON COLUMN public.whatsapp_business_accounts.token_type IS 'system_user (permanent) or user (expiring, must be refreshed).';
COMMENT ON COLUMN public.whatsapp_business_accounts.token_expires_at IS 'Expiry of a user token; NULL for system-user tokens.';
COMMENT ON COLUMN public.whatsapp_business_accounts.app_secret IS 'Meta app secret; validates X-Hub-Signature-256 of incoming webhooks. Secret.';
COMMENT ON COLUMN public.whatsapp_business_accounts.webhook_verify_token IS 'hub.verify_token answered during webhook registration. Secret.';
COMMENT ON COLUMN public.whatsapp_business_accounts.webhook_callback_url IS 'Callback URL registered at Meta; changes when MUVA moves host (re-register).';
COMMENT ON COLUMN public.whatsapp_business_accounts.message_template_namespace IS 'Legacy template namespace (On-Premises API); unused by the Cloud API.';
COMMENT ON COLUMN public.whatsapp_business_accounts.is_active IS 'false stops sending and ignores webhooks for the account.';
COMMENT ON COLUMN public.whatsapp_business_accounts.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.whatsapp_business_accounts.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.whatsapp_business_accounts_tenant_waba_key IS 'External id mapping: a WABA is connected once per hotel; covers the tenant FK.';

-- whatsapp_phone_numbers ------------------------------------------------------
CREATE TABLE public.whatsapp_phone_numbers (
  id                        uuid              NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                 uuid              NOT NULL,
  business_account_id       uuid              NOT NULL,
  phone_number_id           text              NOT NULL,
  phone_number              public.e164_phone NOT NULL,
  display_phone_number      text              NOT NULL,
  verified_name             text              NOT NULL,
  quality_rating            text              NOT NULL DEFAULT 'UNKNOWN',
  code_verification_status  text              NOT NULL DEFAULT 'NOT_VERIFIED',
  messaging_limit_tier      text,
  two_step_pin              text,
  is_default                boolean           NOT NULL DEFAULT false,
  registered_at             timestamptz,
  created_at                timestamptz       NOT NULL DEFAULT now(),
  updated_at                timestamptz       NOT NULL DEFAULT now(),
  CONSTRAINT whatsapp_phone_numbers_pkey PRIMARY KEY (id),
  CONSTRAINT whatsapp_phone_numbers_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_phone_numbers_business_account_id_fkey FOREIGN KEY (business_account_id)
    REFERENCES public.whatsapp_business_accounts (id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_phone_numbers_phone_number_id_key UNIQUE (phone_number_id),
  CONSTRAINT whatsapp_phone_numbers_phone_number_key UNIQUE (phone_number),
  CONSTRAINT whatsapp_phone_numbers_phone_number_id_check CHECK (phone_number_id ~ '^[0-9]{15,17}$'),
  CONSTRAINT whatsapp_phone_numbers_quality_check
    CHECK (quality_rating IN ('GREEN', 'YELLOW', 'RED', 'UNKNOWN')),
  CONSTRAINT whatsapp_phone_numbers_verification_check
    CHECK (code_verification_status IN ('VERIFIED', 'NOT_VERIFIED', 'EXPIRED')),
  CONSTRAINT whatsapp_phone_numbers_tier_check
    CHECK (messaging_limit_tier IN ('TIER_250', 'TIER_1K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED')),
  CONSTRAINT whatsapp_phone_numbers_pin_check CHECK (two_step_pin ~ '^[0-9]{6}$')
);
COMMENT ON TABLE public.whatsapp_phone_numbers IS 'Business phone numbers registered on a WABA. Guests write to these numbers; outgoing messages are sent from them (POST /{phone_number_id}/messages).';
COMMENT ON COLUMN public.whatsapp_phone_numbers.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.tenant_id IS 'Hotel (denormalised from the account for RLS).';
COMMENT ON COLUMN public.whatsapp_phone_numbers.business_account_id IS 'WABA the number is registered on.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.phone_number_id IS 'Cloud API phone number id (numeric string); webhook metadata.phone_number_id routes inbound messages with it.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.phone_number IS 'The number in E.164.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.display_phone_number IS 'Number as Meta displays it ("+57 318 5550100").';
COMMENT ON COLUMN public.whatsapp_phone_numbers.verified_name IS 'Display name approved by Meta; shown to guests as the sender.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.quality_rating IS 'Meta quality rating; RED precedes a messaging-limit downgrade.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.code_verification_status IS 'Ownership verification by SMS/voice code.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.messaging_limit_tier IS 'Business-initiated conversations allowed per 24 h.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.two_step_pin IS 'Six-digit two-step verification PIN set at registration; needed to re-register the number after migration. Secret.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.is_default IS 'Number used for outgoing templates when the conversation does not pin one.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.registered_at IS 'When POST /{phone_number_id}/register succeeded.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.whatsapp_phone_numbers.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.whatsapp_phone_numbers_phone_number_id_key IS 'External id mapping for webhook routing: metadata.phone_number_id resolves to one number (and so one tenant) before any tenant context exists. Global, not per tenant: Meta ids are global.';
COMMENT ON INDEX public.whatsapp_phone_numbers_phone_number_key IS 'A number can be registered on one WABA only (Meta enforces the same).';

CREATE INDEX whatsapp_phone_numbers_tenant_id_idx ON public.whatsapp_phone_numbers (tenant_id);
COMMENT ON INDEX public.whatsapp_phone_numbers_tenant_id_idx IS 'Numbers of a hotel (settings screen); covers the tenant FK.';
CREATE INDEX whatsapp_phone_numbers_business_account_id_idx
  ON public.whatsapp_phone_numbers (business_account_id);
COMMENT ON INDEX public.whatsapp_phone_numbers_business_account_id_idx IS 'Numbers of an account; covers the FK.';

-- whatsapp_messages -----------------------------------------------------------
CREATE TABLE public.whatsapp_messages (
  id                        uuid              NOT NULL DEFAULT gen_random_uuid(),
  tenant_id                 uuid              NOT NULL,
  whatsapp_phone_number_id  uuid              NOT NULL,
  conversation_id           uuid,
  wamid                     text              NOT NULL,
  direction                 text              NOT NULL,
  guest_phone_number        public.e164_phone NOT NULL,
  message_type              text              NOT NULL DEFAULT 'text',
  body                      text,
  template_name             text,
  status                    text,
  error_code                integer,
  error_title               text,
  pricing_category          text,
  sent_at                   timestamptz,
  delivered_at              timestamptz,
  read_at                   timestamptz,
  raw_webhook               jsonb,
  created_at                timestamptz       NOT NULL DEFAULT now(),
  CONSTRAINT whatsapp_messages_pkey PRIMARY KEY (id),
  CONSTRAINT whatsapp_messages_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_messages_whatsapp_phone_number_id_fkey FOREIGN KEY (whatsapp_phone_number_id)
    REFERENCES public.whatsapp_phone_numbers (id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_messages_conversation_id_fkey FOREIGN KEY (conversation_id)
    REFERENCES public.guest_conversations (id) ON DELETE SET NULL,
  CONSTRAINT whatsapp_messages_wamid_key UNIQUE (wamid),
  CONSTRAINT whatsapp_messages_wamid_check CHECK (wamid LIKE 'wamid.%'),
  CONSTRAINT whatsapp_messages_direction_check CHECK (direction IN ('inbound', 'outbound')),
  CONSTRAINT whatsapp_messages_type_check
    CHECK (message_type IN ('text', 'image', 'audio', 'video', 'document', 'sticker',
                            'location', 'contacts', 'interactive', 'button', 'reaction', 'template')),
  CONSTRAINT whatsapp_messages_status_check CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  CONSTRAINT whatsapp_messages_status_outbound_only CHECK (direction = 'outbound' OR status IS NULL),
  CONSTRAINT whatsapp_messages_template_check CHECK ((message_type = 'template') = (template_name IS NOT NULL)),
  CONSTRAINT whatsapp_messages_pricing_check
    CHECK (pricing_category IN ('service', 'utility', 'marketing', 'authentication'))
);
COMMENT ON TABLE public.whatsapp_messages IS 'Every WhatsApp message received (webhook messages[]) or sent (POST /{phone_number_id}/messages), with delivery status from webhook statuses[]. Fastest-growing table of the integrations.';
COMMENT ON COLUMN public.whatsapp_messages.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.whatsapp_messages.tenant_id IS 'Hotel that owns the business number.';
COMMENT ON COLUMN public.whatsapp_messages.whatsapp_phone_number_id IS 'Business number that received or sent the message.';
COMMENT ON COLUMN public.whatsapp_messages.conversation_id IS 'MUVA conversation; set by the webhook handler from guest_phone_number. Kept NULL when the conversation is deleted (messages are retained for 2 years).';
COMMENT ON COLUMN public.whatsapp_messages.wamid IS 'WhatsApp message id (wamid.*). Idempotency key: Meta retries webhooks, duplicates are ignored by ON CONFLICT (wamid).';
COMMENT ON COLUMN public.whatsapp_messages.direction IS 'inbound = guest to hotel; outbound = hotel (assistant or staff) to guest.';
COMMENT ON COLUMN public.whatsapp_messages.guest_phone_number IS 'Guest number in E.164 (webhook from / API to, with + added).';
COMMENT ON COLUMN public.whatsapp_messages.message_type IS 'Cloud API message type.';
COMMENT ON COLUMN public.whatsapp_messages.body IS 'Text body or caption; NULL for media without caption.';
COMMENT ON COLUMN public.whatsapp_messages.template_name IS 'Template used, for message_type = template.';
COMMENT ON COLUMN public.whatsapp_messages.status IS 'Latest delivery status of an outbound message (sent, delivered, read, failed); NULL for inbound.';
COMMENT ON COLUMN public.whatsapp_messages.error_code IS 'Cloud API error code of a failed message (131047 = 24 h window closed, 131026 = undeliverable).';
COMMENT ON COLUMN public.whatsapp_messages.error_title IS 'Cloud API error title.';
COMMENT ON COLUMN public.whatsapp_messages.pricing_category IS 'Conversation pricing category reported in the status webhook; drives the monthly Meta cost report.';
COMMENT ON COLUMN public.whatsapp_messages.sent_at IS 'Status sent received.';
COMMENT ON COLUMN public.whatsapp_messages.delivered_at IS 'Status delivered received.';
COMMENT ON COLUMN public.whatsapp_messages.read_at IS 'Status read received (only if the guest has read receipts on).';
COMMENT ON COLUMN public.whatsapp_messages.raw_webhook IS 'Original webhook value object for inbound messages; kept 30 days for debugging.';
COMMENT ON COLUMN public.whatsapp_messages.created_at IS 'When MUVA stored the message (webhook receipt or API call).';
COMMENT ON INDEX public.whatsapp_messages_wamid_key IS 'Webhook idempotency: Meta redelivers events, ON CONFLICT (wamid) DO NOTHING drops duplicates.';

CREATE INDEX whatsapp_messages_conversation_created_idx
  ON public.whatsapp_messages (conversation_id, created_at);
COMMENT ON INDEX public.whatsapp_messages_conversation_created_idx IS 'Conversation view, oldest first; covers the FK to guest_conversations.';
CREATE INDEX whatsapp_messages_tenant_created_idx
  ON public.whatsapp_messages (tenant_id, created_at DESC);
COMMENT ON INDEX public.whatsapp_messages_tenant_created_idx IS 'Message volume per hotel and retention deletes; covers the tenant FK.';
CREATE INDEX whatsapp_messages_phone_number_idx
  ON public.whatsapp_messages (whatsapp_phone_number_id);
COMMENT ON INDEX public.whatsapp_messages_phone_number_idx IS 'Covers the FK to whatsapp_phone_numbers.';
CREATE INDEX idx_whatsapp_messages_guest_phone
  ON public.whatsapp_messages (guest_phone_number);
COMMENT ON INDEX public.idx_whatsapp_messages_guest_phone IS 'Join to guest_conversations by phone (migration 0031).';
CREATE INDEX whatsapp_messages_guest_phone_number_idx
  ON public.whatsapp_messages (guest_phone_number);
COMMENT ON INDEX public.whatsapp_messages_guest_phone_number_idx IS 'Added from the dashboard index suggestion; duplicates idx_whatsapp_messages_guest_phone. Drop one.';

-- whatsapp_message_templates --------------------------------------------------
CREATE TABLE public.whatsapp_message_templates (
  id                   uuid        NOT NULL DEFAULT gen_random_uuid(),
  tenant_id            uuid        NOT NULL,
  business_account_id  uuid        NOT NULL,
  meta_template_id     text,
  name                 text        NOT NULL,
  language             text        NOT NULL,
  category             text        NOT NULL,
  status               text        NOT NULL DEFAULT 'PENDING',
  rejected_reason      text,
  components           jsonb       NOT NULL,
  last_synced_at       timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT whatsapp_message_templates_pkey PRIMARY KEY (id),
  CONSTRAINT whatsapp_message_templates_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_message_templates_business_account_id_fkey FOREIGN KEY (business_account_id)
    REFERENCES public.whatsapp_business_accounts (id) ON DELETE CASCADE,
  CONSTRAINT whatsapp_message_templates_account_name_language_key UNIQUE (business_account_id, name, language),
  CONSTRAINT whatsapp_message_templates_name_check CHECK (name ~ '^[a-z0-9_]+$' AND char_length(name) <= 512),
  CONSTRAINT whatsapp_message_templates_category_check
    CHECK (category IN ('MARKETING', 'UTILITY', 'AUTHENTICATION')),
  CONSTRAINT whatsapp_message_templates_status_check
    CHECK (status IN ('APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED')),
  CONSTRAINT whatsapp_message_templates_rejected_reason_check
    CHECK (status = 'REJECTED' OR rejected_reason IS NULL),
  CONSTRAINT whatsapp_message_templates_components_check CHECK (jsonb_typeof(components) = 'array')
);
COMMENT ON TABLE public.whatsapp_message_templates IS 'Message templates of each WABA, mirrored from GET /{waba_id}/message_templates. Templates are the only way to message a guest outside the 24-hour customer service window.';
COMMENT ON COLUMN public.whatsapp_message_templates.id IS 'Surrogate key (gen_random_uuid()); internal only, never sent to external platforms.';
COMMENT ON COLUMN public.whatsapp_message_templates.tenant_id IS 'Hotel (denormalised from the account for RLS).';
COMMENT ON COLUMN public.whatsapp_message_templates.business_account_id IS 'WABA that owns the template; templates do not move between accounts.';
COMMENT ON COLUMN public.whatsapp_message_templates.meta_template_id IS 'Template id at Meta; NULL until submitted.';
COMMENT ON COLUMN public.whatsapp_message_templates.name IS 'Template name (lowercase, digits, underscores), unique per account and language.';
COMMENT ON COLUMN public.whatsapp_message_templates.language IS 'Template language code (es, en_US...).';
COMMENT ON COLUMN public.whatsapp_message_templates.category IS 'Meta category, decides price and approval rules: MARKETING, UTILITY or AUTHENTICATION.';
COMMENT ON COLUMN public.whatsapp_message_templates.status IS 'Meta review status, uppercase as the API returns it: APPROVED, PENDING, REJECTED, PAUSED, DISABLED. Only APPROVED can be sent.';
COMMENT ON COLUMN public.whatsapp_message_templates.rejected_reason IS 'Reason given by Meta for REJECTED (INVALID_FORMAT, PROMOTIONAL...).';
COMMENT ON COLUMN public.whatsapp_message_templates.components IS 'HEADER / BODY / FOOTER / BUTTONS components as sent to Meta, with {{n}} placeholders.';
COMMENT ON COLUMN public.whatsapp_message_templates.last_synced_at IS 'Last refresh from Meta; status changes arrive by webhook in between.';
COMMENT ON COLUMN public.whatsapp_message_templates.created_at IS 'Row creation time.';
COMMENT ON COLUMN public.whatsapp_message_templates.updated_at IS 'Last change; maintained by trigger set_updated_at.';
COMMENT ON INDEX public.whatsapp_message_templates_account_name_language_key IS 'Meta identifies a template by account, name and language; covers the FK to whatsapp_business_accounts.';

CREATE INDEX whatsapp_message_templates_tenant_status_name_idx
  ON public.whatsapp_message_templates (tenant_id, status, name);
COMMENT ON INDEX public.whatsapp_message_templates_tenant_status_name_idx IS 'Template picker: approved templates of a hotel by name; covers the tenant FK.';

-- sync_history ----------------------------------------------------------------
CREATE TABLE public.sync_history (
  id                 bigint             GENERATED ALWAYS AS IDENTITY,
  tenant_id          uuid               NOT NULL,
  integration_type   text               NOT NULL,
  operation          text               NOT NULL,
  status             public.sync_status NOT NULL,
  triggered_by       text               NOT NULL,
  started_at         timestamptz        NOT NULL,
  finished_at        timestamptz,
  duration_ms        integer            GENERATED ALWAYS AS
                       ((extract(epoch FROM finished_at - started_at) * 1000)::integer) STORED,
  records_processed  integer            NOT NULL DEFAULT 0,
  records_failed     integer            NOT NULL DEFAULT 0,
  error_message      text,
  details            jsonb              NOT NULL DEFAULT '{}'::jsonb,
  CONSTRAINT sync_history_pkey PRIMARY KEY (id),
  CONSTRAINT sync_history_tenant_id_fkey FOREIGN KEY (tenant_id)
    REFERENCES public.tenant_registry (tenant_id) ON DELETE CASCADE,
  CONSTRAINT sync_history_integration_type_check
    CHECK (integration_type IN ('motopress', 'airbnb', 'whatsapp', 'booking_com', 'stripe')),
  CONSTRAINT sync_history_operation_check
    CHECK (operation IN ('full_sync', 'incremental_sync', 'calendar_fetch', 'template_sync', 'webhook')),
  CONSTRAINT sync_history_triggered_by_check CHECK (triggered_by IN ('cron', 'webhook', 'manual')),
  CONSTRAINT sync_history_finished_check CHECK (finished_at IS NULL OR finished_at >= started_at),
  CONSTRAINT sync_history_running_check CHECK ((status = 'running') = (finished_at IS NULL)),
  CONSTRAINT sync_history_counts_check CHECK (records_processed >= 0 AND records_failed >= 0)
);
COMMENT ON TABLE public.sync_history IS 'One row per sync job run of any integration: the cross-integration audit trail used for compliance and for the sync-health charts. Per-call detail stays in the platform logs.';
COMMENT ON COLUMN public.sync_history.id IS 'Identity; insertion order.';
COMMENT ON COLUMN public.sync_history.tenant_id IS 'Hotel the job ran for.';
COMMENT ON COLUMN public.sync_history.integration_type IS 'Integration of the job (same values as integration_configs.integration_type).';
COMMENT ON COLUMN public.sync_history.operation IS 'Kind of job.';
COMMENT ON COLUMN public.sync_history.status IS 'running while the job holds its lease, then success or error.';
COMMENT ON COLUMN public.sync_history.triggered_by IS 'cron, webhook or manual (staff clicked sync).';
COMMENT ON COLUMN public.sync_history.started_at IS 'Job start.';
COMMENT ON COLUMN public.sync_history.finished_at IS 'Job end; NULL while running.';
COMMENT ON COLUMN public.sync_history.duration_ms IS 'Generated from finished_at - started_at.';
COMMENT ON COLUMN public.sync_history.records_processed IS 'Records read from the external platform.';
COMMENT ON COLUMN public.sync_history.records_failed IS 'Records that could not be applied.';
COMMENT ON COLUMN public.sync_history.error_message IS 'Summary of the failure; may quote tokens from upstream errors, redact before sharing.';
COMMENT ON COLUMN public.sync_history.details IS 'Job-specific counters and identifiers (feed ids, page counts, rate-limit headers).';

CREATE INDEX sync_history_tenant_started_idx ON public.sync_history (tenant_id, started_at DESC);
COMMENT ON INDEX public.sync_history_tenant_started_idx IS 'Sync history of a hotel, newest first; covers the tenant FK.';
CREATE INDEX sync_history_integration_status_idx
  ON public.sync_history (integration_type, status, started_at DESC);
COMMENT ON INDEX public.sync_history_integration_status_idx IS 'Sync-health charts and failure alerts per integration.';

-- =============================================================================
-- ROW LEVEL SECURITY
-- =============================================================================
-- Model: the API sets app.tenant_id (and app.user_id) with set_config(..., true)
-- at the start of each request transaction and runs as role authenticated.
-- Integration workers run as service_role. Policies wrap current_setting() in
-- (SELECT ...) so it is evaluated once per statement, not once per row;
-- nullif() turns an unset/empty setting into NULL, which matches no row.

-- tenant_registry
ALTER TABLE public.tenant_registry ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read_own ON public.tenant_registry
  FOR SELECT TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_read_own ON public.tenant_registry IS 'Dashboard users read their own hotel only. No write policy: plan and status changes go through billing (service_role).';
CREATE POLICY service_role_full_access ON public.tenant_registry
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.tenant_registry IS 'Back-office and onboarding jobs manage tenants across all hotels.';

-- staff_users
ALTER TABLE public.staff_users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.staff_users
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.staff_users IS 'Staff see and manage colleagues of the same hotel only; WITH CHECK stops moving a user to another tenant.';
CREATE POLICY service_role_full_access ON public.staff_users
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.staff_users IS 'Signup and invitation flows create staff for any hotel.';

-- accommodations
ALTER TABLE public.accommodations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.accommodations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.accommodations IS 'A hotel sees and edits only its own accommodations.';
CREATE POLICY service_role_full_access ON public.accommodations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.accommodations IS 'The assistant backend and MotoPress sync read and create accommodations for every hotel.';

-- accommodation_units
ALTER TABLE public.accommodation_units ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.accommodation_units
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.accommodation_units IS 'A hotel sees and edits only its own units.';
CREATE POLICY service_role_full_access ON public.accommodation_units
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.accommodation_units IS 'Calendar and MotoPress sync workers map units for every hotel.';

-- integration_configs
ALTER TABLE public.integration_configs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_admins_manage ON public.integration_configs
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)
         AND EXISTS (SELECT 1 FROM public.staff_users su
                      WHERE su.id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)
                        AND su.role IN ('owner', 'admin')
                        AND su.is_active))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_admins_manage ON public.integration_configs IS 'Credentials are visible to owners and admins of the hotel only; plain staff cannot read API keys.';
CREATE POLICY service_role_full_access ON public.integration_configs
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.integration_configs IS 'Integration workers read credentials of every hotel.';

-- ics_feed_configurations
ALTER TABLE public.ics_feed_configurations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.ics_feed_configurations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.ics_feed_configurations IS 'Staff manage the iCal feeds of their own hotel; feed URLs are secrets of that hotel.';
CREATE POLICY service_role_full_access ON public.ics_feed_configurations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.ics_feed_configurations IS 'The feed scheduler fetches and updates feeds of all hotels.';

-- calendar_events
ALTER TABLE public.calendar_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.calendar_events
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.calendar_events IS 'Staff see and block only their own hotel calendar.';
CREATE POLICY service_role_full_access ON public.calendar_events
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.calendar_events IS 'iCal import writes events for all hotels.';

-- guest_conversations
ALTER TABLE public.guest_conversations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.guest_conversations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.guest_conversations IS 'The staff inbox shows conversations of the own hotel only.';
CREATE POLICY service_role_full_access ON public.guest_conversations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.guest_conversations IS 'Webhook handlers and the assistant create and update conversations for all hotels.';

-- motopress_accommodations
ALTER TABLE public.motopress_accommodations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.motopress_accommodations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.motopress_accommodations IS 'Staff see their own MotoPress types and may set the mapping (accommodation_id).';
CREATE POLICY service_role_full_access ON public.motopress_accommodations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.motopress_accommodations IS 'The MotoPress sync worker upserts types for all hotels.';

-- motopress_accommodation_units
ALTER TABLE public.motopress_accommodation_units ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.motopress_accommodation_units
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.motopress_accommodation_units IS 'Staff see their own MotoPress units and may set the unit mapping.';
CREATE POLICY service_role_full_access ON public.motopress_accommodation_units
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.motopress_accommodation_units IS 'The MotoPress sync worker upserts units for all hotels.';

-- motopress_room_types
ALTER TABLE public.motopress_room_types ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.motopress_room_types
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.motopress_room_types IS 'Category mappings are per hotel; staff edit only theirs.';
CREATE POLICY service_role_full_access ON public.motopress_room_types
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.motopress_room_types IS 'The sync worker refreshes category names and rates for all hotels.';

-- motopress_sync_log (append-only: tenants read, workers write)
ALTER TABLE public.motopress_sync_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read_own ON public.motopress_sync_log
  FOR SELECT TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_read_own ON public.motopress_sync_log IS 'Staff read the sync log of their hotel; nobody but the worker writes to an audit trail.';
CREATE POLICY service_role_full_access ON public.motopress_sync_log
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.motopress_sync_log IS 'The sync worker appends entries; the retention job deletes old ones.';

-- airbnb_accommodations
ALTER TABLE public.airbnb_accommodations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.airbnb_accommodations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.airbnb_accommodations IS 'Staff link and unlink Airbnb listings of their own hotel.';
CREATE POLICY service_role_full_access ON public.airbnb_accommodations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.airbnb_accommodations IS 'The calendar job reads listings of all hotels.';

-- airbnb_calendar_sync_status
ALTER TABLE public.airbnb_calendar_sync_status ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.airbnb_calendar_sync_status
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.airbnb_calendar_sync_status IS 'Staff see sync health of their listings; "Sync now" resets next_sync_at.';
CREATE POLICY service_role_full_access ON public.airbnb_calendar_sync_status
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.airbnb_calendar_sync_status IS 'The hourly job updates the state of every listing.';

-- airbnb_sync_log (append-only)
ALTER TABLE public.airbnb_sync_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read_own ON public.airbnb_sync_log
  FOR SELECT TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_read_own ON public.airbnb_sync_log IS 'Staff read the fetch history of their listings; read-only for them.';
CREATE POLICY service_role_full_access ON public.airbnb_sync_log
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.airbnb_sync_log IS 'The calendar job appends entries; the retention job deletes old ones.';

-- airbnb_mphb_imported_reservations
ALTER TABLE public.airbnb_mphb_imported_reservations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.airbnb_mphb_imported_reservations
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.airbnb_mphb_imported_reservations IS 'Staff see reservations pushed to their own MotoPress site.';
CREATE POLICY service_role_full_access ON public.airbnb_mphb_imported_reservations
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.airbnb_mphb_imported_reservations IS 'The push worker records every import attempt.';

-- airbnb_motopress_comparison: RLS on, no policy yet (see header, finding 4).
-- Only the table owner (the support script) can read or write it.
ALTER TABLE public.airbnb_motopress_comparison ENABLE ROW LEVEL SECURITY;

-- whatsapp_business_accounts
ALTER TABLE public.whatsapp_business_accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.whatsapp_business_accounts
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.whatsapp_business_accounts IS 'Staff see the WhatsApp accounts of their hotel (the dashboard never selects the token columns).';
CREATE POLICY service_role_full_access ON public.whatsapp_business_accounts
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.whatsapp_business_accounts IS 'Embedded signup and message senders use the credentials of every hotel.';

-- whatsapp_phone_numbers
ALTER TABLE public.whatsapp_phone_numbers ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.whatsapp_phone_numbers
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.whatsapp_phone_numbers IS 'Staff see and choose the default number of their own hotel.';
CREATE POLICY service_role_full_access ON public.whatsapp_phone_numbers
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.whatsapp_phone_numbers IS 'The webhook router resolves phone_number_id to a hotel before any tenant is known.';

-- whatsapp_messages
ALTER TABLE public.whatsapp_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.whatsapp_messages
  FOR ALL TO authenticated
  USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
COMMENT ON POLICY tenant_isolation ON public.whatsapp_messages IS 'Staff read and send messages of their own hotel only. Written before the (SELECT ...) convention: current_setting() runs per row (see header, finding 2).';
CREATE POLICY service_role_full_access ON public.whatsapp_messages
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.whatsapp_messages IS 'Webhook handler and assistant write messages and statuses for all hotels.';

-- whatsapp_message_templates
ALTER TABLE public.whatsapp_message_templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON public.whatsapp_message_templates
  FOR ALL TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid))
  WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_isolation ON public.whatsapp_message_templates IS 'Staff draft and pick templates of their own hotel.';
CREATE POLICY service_role_full_access ON public.whatsapp_message_templates
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.whatsapp_message_templates IS 'Template sync and the review-status webhook update templates of all hotels.';

-- sync_history (append-only)
ALTER TABLE public.sync_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_read_own ON public.sync_history
  FOR SELECT TO authenticated
  USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')::uuid));
COMMENT ON POLICY tenant_read_own ON public.sync_history IS 'Staff read the job history of their hotel (sync-health chart); read-only for them.';
CREATE POLICY service_role_full_access ON public.sync_history
  FOR ALL TO service_role USING (true) WITH CHECK (true);
COMMENT ON POLICY service_role_full_access ON public.sync_history IS 'Job runners open and close history rows for all hotels.';

-- =============================================================================
-- DATA (fixed ids, fixed timestamps; every secret is fake)
-- =============================================================================
-- Tenants: Posada del Mar (San Andrés, enterprise: MotoPress + Airbnb + WhatsApp),
-- Casa Laureles Suites (Medellín, premium: Airbnb + WhatsApp + Stripe deposits),
-- Ecohostal Río Minca (Minca, free tier: web chat only).
-- Snapshot taken 2026-11-10 around 09:05 Colombia time.

INSERT INTO public.tenant_registry
  (tenant_id, slug, business_name, legal_name, nit, subscription_tier, city, timezone, default_language, features, is_active, created_at, updated_at)
VALUES
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'posada-del-mar', 'Posada del Mar San Andrés', 'Posada del Mar S.A.S.', '900000001-3', 'enterprise',
   'San Andrés', 'America/Bogota', 'es', '{"assistant_languages": ["es", "en"], "beta_voice_notes": true}',
   true, '2026-09-02 10:14:00-05', '2026-10-12 16:40:00-05'),
  ('f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'casa-laureles', 'Casa Laureles Suites', 'Inversiones Laureles S.A.S.', '900000002-1', 'premium',
   'Medellín', 'America/Bogota', 'es', '{"assistant_languages": ["es", "en", "pt"]}',
   true, '2026-09-15 08:30:00-05', '2026-10-20 11:05:00-05'),
  ('e9617dde-691f-426c-a924-79006e0a08e1', 'ecohostal-rio-minca', 'Ecohostal Río Minca', NULL, NULL, 'free',
   'Minca', 'America/Bogota', 'es', '{}',
   true, '2026-10-01 19:02:00-05', '2026-10-01 19:02:00-05');

INSERT INTO public.staff_users
  (id, tenant_id, email, full_name, role, phone, is_active, last_login_at, created_at, updated_at)
VALUES
  ('37ea38e0-02d7-4df3-8380-44b9c54ce139', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'marcela.archbold@posadadelmar.example', 'Marcela Archbold', 'owner',
   '+573185550110', true, '2026-11-09 10:11:00-05', '2026-09-02 10:14:00-05', '2026-09-02 10:14:00-05'),
  ('c6e89aca-5d89-4b50-ac38-b6169679c3b6', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'Recepcion@PosadaDelMar.example', 'Kevin Livingston', 'staff',
   '+573185550111', true, '2026-11-10 07:58:00-05', '2026-09-03 09:00:00-05', '2026-09-20 12:00:00-05'),
  ('eb68f4e3-4ddb-4d18-8355-6420412794ba', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'carolina.restrepo@casalaureles.example', 'Carolina Restrepo', 'owner',
   '+573005550121', true, '2026-11-08 20:45:00-05', '2026-09-15 08:30:00-05', '2026-09-15 08:30:00-05'),
  ('d12a0e2f-007e-4ed3-ab34-6848cbd6a359', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'julian.ospina@casalaureles.example', 'Julián Ospina', 'admin',
   NULL, true, '2026-11-10 08:40:00-05', '2026-09-16 14:10:00-05', '2026-10-02 09:00:00-05'),
  ('651511e7-c7b1-4670-bbed-18c56a71e3fa', 'e9617dde-691f-426c-a924-79006e0a08e1', 'andrea.villalobos@riominca.example', 'Andrea Villalobos', 'owner',
   '+573215550130', true, '2026-11-06 18:00:00-05', '2026-10-01 19:02:00-05', '2026-10-01 19:02:00-05');

INSERT INTO public.accommodations
  (id, tenant_id, name, slug, accommodation_type, description, city, department, address, latitude, longitude,
   max_guests, amenities, check_in_time, check_out_time, is_active, created_at, updated_at)
VALUES
  ('007fc694-8fde-4e6c-a7c4-519a3a030080', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'Suite Vista al Mar', 'suite-vista-al-mar', 'suite',
   'Suite de 32 m² en segundo piso con balcón frente al mar de siete colores, cama king y aire acondicionado.',
   'San Andrés', 'San Andrés y Providencia', 'Avenida Colombia 4-20, North End', 12.584512, -81.700133,
   3, '{wifi,aire_acondicionado,vista_al_mar,balcon,minibar}', '15:00', '11:00', true,
   '2026-09-02 11:00:00-05', '2026-10-12 16:40:00-05'),
  ('9c6e7134-637d-4656-9e3f-958c957084ed', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'Habitación Doble Estándar', 'doble-estandar', 'room',
   'Habitación interior con cama doble o dos sencillas, baño privado y aire acondicionado.',
   'San Andrés', 'San Andrés y Providencia', 'Avenida Colombia 4-20, North End', 12.584512, -81.700133,
   2, '{wifi,aire_acondicionado}', '15:00', '11:00', true,
   '2026-09-02 11:05:00-05', '2026-09-02 11:05:00-05'),
  ('f20cc622-4ced-4073-8a5c-45d3b47ee02b', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'Cabaña Familiar Sound Bay', 'cabana-sound-bay', 'cabin',
   'Cabaña independiente para 4 personas a 50 m de la playa de Sound Bay, con cocineta y terraza.',
   'San Andrés', 'San Andrés y Providencia', 'Vía San Luis km 6, Sound Bay', 12.531807, -81.705981,
   4, '{wifi,aire_acondicionado,cocineta,terraza,parqueadero}', '14:00', '11:00', true,
   '2026-09-05 09:30:00-05', '2026-10-12 16:40:00-05'),
  ('475f0146-4040-49eb-853e-5abde9a40676', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'Apartaestudio Laureles', 'apartaestudio', 'apartment',
   'Apartaestudio de 38 m² con cocina equipada y lavadora, a dos cuadras de la Avenida Nutibara.',
   'Medellín', 'Antioquia', 'Circular 1 # 70-15', 6.245330, -75.590010,
   2, '{wifi,cocina,lavadora,escritorio}', '15:00', '12:00', true,
   '2026-09-15 09:00:00-05', '2026-09-15 09:00:00-05'),
  ('e8ee204a-19ee-4936-b09e-e64b0b448d57', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'Suite Ejecutiva Laureles', 'suite-ejecutiva', 'suite',
   'Suite con balcón, escritorio y parqueadero cubierto; pensada para estancias de trabajo.',
   'Medellín', 'Antioquia', 'Circular 1 # 70-15', 6.245330, -75.590010,
   2, '{wifi,escritorio,balcon,parqueadero}', '15:00', '12:00', true,
   '2026-09-15 09:10:00-05', '2026-10-20 11:05:00-05'),
  ('761a0c70-00f9-4d68-b477-7f02ee757051', 'e9617dde-691f-426c-a924-79006e0a08e1', 'Dormitorio Compartido Río', 'dormitorio-rio', 'dorm',
   'Dormitorio de 8 camas con mosquiteros, lockers y baño compartido junto al río.',
   'Minca', 'Magdalena', 'Vereda Minca, vía a Pozo Azul', 11.142020, -74.117300,
   8, '{wifi,lockers,cocina_compartida}', '13:00', '10:00', true,
   '2026-10-01 19:10:00-05', '2026-10-01 19:10:00-05');

INSERT INTO public.accommodation_units
  (id, tenant_id, accommodation_id, unit_code, name, floor, capacity_adults, capacity_children, bed_config,
   base_rate, currency, is_active, created_at, updated_at)
VALUES
  ('b4ad224d-f514-4e5b-9dff-eb51b10fd725', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '007fc694-8fde-4e6c-a7c4-519a3a030080', '201', 'Suite 201', 2, 2, 1, '{"king": 1, "sofa_bed": 1}', 450000.00, 'COP', true, '2026-09-02 11:00:00-05', '2026-09-02 11:00:00-05'),
  ('ae4405ff-c516-433f-aa41-2bc672304be8', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '007fc694-8fde-4e6c-a7c4-519a3a030080', '202', 'Suite 202', 2, 2, 1, '{"king": 1, "sofa_bed": 1}', 450000.00, 'COP', true, '2026-09-02 11:00:00-05', '2026-09-02 11:00:00-05'),
  ('8ac3bb7a-d5a2-403a-a42f-b2a7ec623e85', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '9c6e7134-637d-4656-9e3f-958c957084ed', '101', 'Doble 101', 1, 2, 0, '{"double": 1}', 280000.00, 'COP', true, '2026-09-02 11:05:00-05', '2026-09-02 11:05:00-05'),
  ('7b74ec43-690d-4897-8cc0-2e0ffba9ac03', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '9c6e7134-637d-4656-9e3f-958c957084ed', '102', 'Doble 102', 1, 2, 0, '{"single": 2}', 280000.00, 'COP', true, '2026-09-02 11:05:00-05', '2026-09-02 11:05:00-05'),
  ('7827327c-5303-4d1b-94d9-45c9e432ba66', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '9c6e7134-637d-4656-9e3f-958c957084ed', '103', 'Doble 103', 1, 2, 0, '{"double": 1}', 280000.00, 'COP', false, '2026-09-02 11:05:00-05', '2026-10-30 10:00:00-05'),
  ('250b42a9-864f-4187-ab82-ac36748974f7', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'f20cc622-4ced-4073-8a5c-45d3b47ee02b', 'CAB-1', 'Cabaña Sound Bay', NULL, 4, 2, '{"queen": 1, "bunk": 1}', 620000.00, 'COP', true, '2026-09-05 09:30:00-05', '2026-09-05 09:30:00-05'),
  ('124cd799-5c71-4c7e-bb69-92d3574801cf', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '475f0146-4040-49eb-853e-5abde9a40676', '302', 'Apto 302', 3, 2, 0, '{"queen": 1}', 210000.00, 'COP', true, '2026-09-15 09:00:00-05', '2026-09-15 09:00:00-05'),
  ('b17a8b2e-ad3f-424d-b4bd-2ec3a4e71018', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '475f0146-4040-49eb-853e-5abde9a40676', '303', 'Apto 303', 3, 2, 0, '{"queen": 1}', 210000.00, 'COP', true, '2026-09-15 09:00:00-05', '2026-09-15 09:00:00-05'),
  ('d17e639d-339c-4ae6-a99a-f4fc56999ddf', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'e8ee204a-19ee-4936-b09e-e64b0b448d57', '501', 'Suite 501', 5, 2, 0, '{"king": 1}', 340000.00, 'COP', true, '2026-09-15 09:10:00-05', '2026-10-20 11:05:00-05'),
  ('8784c9db-4c53-40d3-a9d2-347eb31e235f', 'e9617dde-691f-426c-a924-79006e0a08e1', '761a0c70-00f9-4d68-b477-7f02ee757051', 'DORM-A', 'Dormitorio A (8 camas)', NULL, 8, 0, '{"bunk": 4}', 65000.00, 'COP', true, '2026-10-01 19:10:00-05', '2026-10-01 19:10:00-05');

-- integration_configs: exactly 3 rows. Secrets are fake (FAKE / demo / deadbeef).
INSERT INTO public.integration_configs
  (id, tenant_id, integration_type, display_name, config, is_active, configured_by, last_verified_at, created_at, updated_at)
VALUES
  ('a12af277-8ba6-4e09-95d0-2885c17311df', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'motopress', 'MotoPress - posadadelmar.example',
   '{
      "site_url": "https://www.posadadelmar.example",
      "api_base": "https://www.posadadelmar.example/wp-json/mphb/v1",
      "auth": {
        "type": "basic",
        "consumer_key": "ck_deadbeef00000000000000000000000000000001",
        "consumer_secret": "cs_deadbeef00000000000000000000000000000002"
      },
      "webhooks": [
        {"url": "https://api.muva.example/api/webhooks/motopress/posada-del-mar",
         "events": ["booking.created", "booking.updated"],
         "secret": "whsec_FAKEdemoMotoPressHook000000000001"}
      ],
      "sync": {"accommodation_types": true, "accommodations": true, "bookings": true, "per_page": 100}
    }',
   true, '37ea38e0-02d7-4df3-8380-44b9c54ce139', '2026-11-09 10:14:00-05', '2026-09-04 15:20:00-05', '2026-11-09 10:14:00-05'),
  ('ca702c01-dca0-4dd6-808f-217ae545d5ab', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'whatsapp', 'WhatsApp Cloud API - Posada del Mar',
   '{
      "graph_api_version": "v21.0",
      "waba_id": "115000000000101",
      "phone_number_id": "116000000000111",
      "auth": {
        "app_id": "117000000000001",
        "access_token": "EAAGFAKEdemoTOKENnotREAL0ZBZCxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKEdemoZBZCxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKEdemoZDZD",
        "app_secret": "deadbeefcafef00d0000000000000001"
      },
      "webhook": {
        "callback_url": "https://api.muva.example/api/webhooks/whatsapp",
        "verify_token": "muva-verify-FAKE-demo-7d1c3e",
        "fields": ["messages", "message_template_status_update"]
      }
    }',
   true, '37ea38e0-02d7-4df3-8380-44b9c54ce139', '2026-11-01 08:00:00-05', '2026-09-06 10:00:00-05', '2026-11-01 08:00:00-05'),
  ('7b73d056-5745-4f62-9d63-49b55db2d212', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'stripe', 'Stripe - depósitos de reserva',
   '{
      "account_id": "acct_FAKEdemo00000001",
      "auth": {"api_key": "sk_live_FAKEdemoKEYnotREAL00000000000000000000000000000001"},
      "webhooks": [
        {"url": "https://api.muva.example/api/webhooks/stripe/casa-laureles",
         "secret": "whsec_FAKEdemoStripeHook0000000000002",
         "events": ["checkout.session.completed", "charge.refunded"]}
      ],
      "deposit_percent": 30,
      "currency": "COP"
    }',
   true, 'd12a0e2f-007e-4ed3-ab34-6848cbd6a359', '2026-10-20 11:00:00-05', '2026-10-02 09:00:00-05', '2026-10-20 11:05:00-05');

-- ics_feed_configurations: exactly 9 rows.
INSERT INTO public.ics_feed_configurations
  (id, tenant_id, accommodation_unit_id, platform, direction, feed_name, feed_url, refresh_interval, is_active,
   last_fetched_at, last_http_status, last_etag, consecutive_failures, created_at, updated_at)
VALUES
  ('d53e13c2-e1bd-4807-b4e6-f92c516ed177', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', 'airbnb', 'import', 'Airbnb - Cabaña Sound Bay',
   'https://www.airbnb.com/calendar/ical/12345678.ics?s=3f9adeadbeef00000000000000000001', '01:00:00', true,
   '2026-11-10 09:00:04-05', 200, 'W/"demo-etag-cab-1"', 0, '2026-09-05 10:00:00-05', '2026-11-10 09:00:04-05'),
  ('02f7b10a-f5d3-4cfb-948c-a3b63775e577', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', 'booking', 'import', 'Booking.com - Cabaña Sound Bay',
   'https://admin.booking.com/hotel/hoteladmin/ical.html?t=00000000-dead-beef-0000-000000000001', '01:00:00', true,
   '2026-11-10 09:00:06-05', 200, NULL, 0, '2026-09-05 10:05:00-05', '2026-11-10 09:00:06-05'),
  ('4b4adf50-fda4-4d92-ba62-f6e59ab3cf8f', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', 'airbnb', 'export', 'MUVA -> Airbnb (Cabaña)',
   'https://api.muva.example/ical/export/cab-1.ics?t=FAKEdemoExportToken0000000000000001', '01:00:00', true,
   NULL, NULL, NULL, 0, '2026-09-05 10:10:00-05', '2026-09-05 10:10:00-05'),
  ('8baf05b5-c0af-4215-9bee-58dddec95c03', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'b4ad224d-f514-4e5b-9dff-eb51b10fd725', 'booking', 'import', 'Booking.com - Suite 201',
   'https://admin.booking.com/hotel/hoteladmin/ical.html?t=00000000-dead-beef-0000-000000000002', '02:00:00', true,
   '2026-11-10 08:00:03-05', 200, NULL, 0, '2026-09-06 09:00:00-05', '2026-11-10 08:00:03-05'),
  ('81d0b90d-9c20-451c-9e89-fcd6df66abf6', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'ae4405ff-c516-433f-aa41-2bc672304be8', 'booking', 'import', 'Booking.com - Suite 202 (retirado)',
   'https://admin.booking.com/hotel/hoteladmin/ical.html?t=00000000-dead-beef-0000-000000000003', '02:00:00', false,
   '2026-10-18 08:00:02-05', 404, NULL, 5, '2026-09-06 09:05:00-05', '2026-10-18 08:00:02-05'),
  ('d62c59eb-9954-4fc7-98f8-9a622e93e434', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '124cd799-5c71-4c7e-bb69-92d3574801cf', 'airbnb', 'import', 'Airbnb - Apto 302',
   'https://www.airbnb.com/calendar/ical/23456789.ics?s=3f9adeadbeef00000000000000000002', '01:00:00', true,
   '2026-11-10 09:01:02-05', 304, 'W/"demo-etag-302"', 0, '2026-09-15 10:00:00-05', '2026-11-10 09:01:02-05'),
  ('7e40ee9b-bb28-4304-bc61-00900139a9aa', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'b17a8b2e-ad3f-424d-b4bd-2ec3a4e71018', 'airbnb', 'import', 'Airbnb - Apto 303',
   'https://www.airbnb.com/calendar/ical/34567890.ics?s=3f9adeadbeef00000000000000000003', '01:00:00', true,
   '2026-11-10 09:02:01-05', 410, NULL, 3, '2026-09-15 10:05:00-05', '2026-11-10 09:02:01-05'),
  ('5dffe0d0-ded4-495b-9a3a-bab29c15e1a8', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'd17e639d-339c-4ae6-a99a-f4fc56999ddf', 'airbnb', 'import', 'Airbnb - Suite 501',
   'https://www.airbnb.com/calendar/ical/987654321012345678.ics?s=3f9adeadbeef00000000000000000004&locale=es', '01:00:00', true,
   '2026-11-10 08:03:05-05', 200, NULL, 0, '2026-10-20 11:00:00-05', '2026-11-10 08:03:05-05'),
  ('3324a23b-b62b-466e-8bbf-e23a14ad25c1', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'd17e639d-339c-4ae6-a99a-f4fc56999ddf', 'vrbo', 'import', 'Vrbo - Suite 501',
   'http://www.vrbo.com/icalendar/deadbeef00000000000000000000demo.ics?nonTentative', '03:00:00', true,
   '2026-11-10 06:00:09-05', 200, NULL, 0, '2026-10-20 11:02:00-05', '2026-11-10 06:00:09-05');

INSERT INTO public.calendar_events
  (id, tenant_id, accommodation_unit_id, ics_feed_id, uid, dtstart, dtend, summary, description, source,
   event_status, sequence, last_seen_at, created_at, updated_at)
VALUES
  ('ef6c66d3-f649-4507-94da-90fb80373b41', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', 'd53e13c2-e1bd-4807-b4e6-f92c516ed177',
   '1418fb94e984-8a2f3c1d5e6b7a8f9c0d1e2f3a4b5c6d@airbnb.com', '2026-11-20', '2026-11-24', 'Reserved',
   E'Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMFAKE0001\nPhone Number (Last 4 Digits): 0187',
   'airbnb', 'confirmed', 0, '2026-11-10 09:00:04-05', '2026-10-21 13:00:02-05', '2026-10-21 13:00:02-05'),
  ('4a248b2b-f6c2-45df-a3c7-43731d766049', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', 'd53e13c2-e1bd-4807-b4e6-f92c516ed177',
   '7f3e2a1b9c8d-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e@airbnb.com', '2026-12-20', '2027-01-03', 'Airbnb (Not available)',
   NULL, 'airbnb', 'confirmed', 0, '2026-11-10 09:00:04-05', '2026-09-05 11:00:03-05', '2026-09-05 11:00:03-05'),
  ('e86abf18-f41d-491c-b313-58a7cb93f5cb', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '250b42a9-864f-4187-ab82-ac36748974f7', '02f7b10a-f5d3-4cfb-948c-a3b63775e577',
   'deadbeef0000000000000000000000a1@booking.com', '2026-11-27', '2026-11-30', 'CLOSED - Not available',
   NULL, 'booking', 'confirmed', 0, '2026-11-10 09:00:06-05', '2026-11-03 07:00:05-05', '2026-11-03 07:00:05-05'),
  ('9513e41c-c222-43d5-a722-afc5ea8f5c86', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'b4ad224d-f514-4e5b-9dff-eb51b10fd725', '8baf05b5-c0af-4215-9bee-58dddec95c03',
   'deadbeef0000000000000000000000a2@booking.com', '2026-11-20', '2026-11-24', 'CLOSED - Not available',
   NULL, 'booking', 'confirmed', 0, '2026-11-10 08:00:03-05', '2026-10-14 16:00:02-05', '2026-10-14 16:00:02-05'),
  ('e057e7a3-6dbf-4879-9754-558375c9f994', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'ae4405ff-c516-433f-aa41-2bc672304be8', NULL,
   'manual-e057e7a3-6dbf-4879-9754-558375c9f994@muva.example', '2026-11-03', '2026-11-05', 'Mantenimiento aire acondicionado',
   'Cambio de compresor, técnico confirmado por Kevin.', 'manual', 'confirmed', 0, NULL,
   '2026-10-30 10:00:00-05', '2026-10-30 10:00:00-05'),
  ('05b7c0e0-5bc7-4a11-b2ea-2fb40317feb2', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '124cd799-5c71-4c7e-bb69-92d3574801cf', 'd62c59eb-9954-4fc7-98f8-9a622e93e434',
   '1418fb94e984-1a2b3c4d5e6f708192a3b4c5d6e7f801@airbnb.com', '2026-10-31', '2026-11-03', 'Reserved',
   E'Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMFAKE0002\nPhone Number (Last 4 Digits): 0177',
   'airbnb', 'confirmed', 0, '2026-11-10 09:01:02-05', '2026-10-24 18:00:04-05', '2026-10-24 18:00:04-05'),
  ('46e79d55-1b2e-4954-b755-d9d5422a349c', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '124cd799-5c71-4c7e-bb69-92d3574801cf', 'd62c59eb-9954-4fc7-98f8-9a622e93e434',
   '1418fb94e984-2b3c4d5e6f708192a3b4c5d6e7f80912@airbnb.com', '2026-11-10', '2026-11-15', 'Reserved',
   E'Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMFAKE0003\nPhone Number (Last 4 Digits): 0165',
   'airbnb', 'cancelled', 1, '2026-11-07 15:00:03-05', '2026-10-29 09:00:02-05', '2026-11-07 16:00:03-05'),
  ('7c5198de-47f4-4fe8-b870-5843e965c2bb', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'b17a8b2e-ad3f-424d-b4bd-2ec3a4e71018', '7e40ee9b-bb28-4304-bc61-00900139a9aa',
   '1418fb94e984-3c4d5e6f708192a3b4c5d6e7f8091a2b@airbnb.com', '2026-10-20', '2026-10-27', 'Reserved',
   E'Reservation URL: https://www.airbnb.com/hosting/reservations/details/HMFAKE0004\nPhone Number (Last 4 Digits): 0154',
   'airbnb', 'confirmed', 0, '2026-11-10 06:02:01-05', '2026-10-02 12:00:03-05', '2026-10-02 12:00:03-05'),
  ('7e35f6b3-2526-497a-b34b-cf2580f91646', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'd17e639d-339c-4ae6-a99a-f4fc56999ddf', '5dffe0d0-ded4-495b-9a3a-bab29c15e1a8',
   '9c8b7a6f5e4d-4d5e6f708192a3b4c5d6e7f8091a2b3c@airbnb.com', '2026-11-01', '2026-11-08', 'Airbnb (Not available)',
   NULL, 'airbnb', 'confirmed', 0, '2026-11-10 08:03:05-05', '2026-10-21 08:00:02-05', '2026-10-21 08:00:02-05'),
  ('03cb4418-1b8f-4d7f-aac7-4af08984fd8e', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'd17e639d-339c-4ae6-a99a-f4fc56999ddf', '3324a23b-b62b-466e-8bbf-e23a14ad25c1',
   'deadbeef-0000-4000-8000-00000000c0de', '2026-11-21', '2026-11-23', 'Reserved',
   NULL, 'vrbo', 'confirmed', 0, '2026-11-10 06:00:09-05', '2026-11-04 03:00:08-05', '2026-11-04 03:00:08-05');

INSERT INTO public.guest_conversations
  (id, tenant_id, accommodation_id, assigned_staff_id, guest_name, guest_phone, channel, status, language, tags,
   last_message_at, created_at, updated_at)
VALUES
  ('e6d29ffb-7fd3-4835-989e-b31dc4864e95', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '007fc694-8fde-4e6c-a7c4-519a3a030080', NULL, 'Jennifer Walsh', '+12025550143', 'whatsapp',
   'closed', 'en', '{reserva}', '2026-10-14 15:02:00-05', '2026-10-14 09:12:00-05', '2026-10-15 15:02:00-05'),
  ('05cbbe22-b823-4eca-a4cc-945b06473199', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'f20cc622-4ced-4073-8a5c-45d3b47ee02b', 'c6e89aca-5d89-4b50-ac38-b6169679c3b6', 'Andrés Felipe Gómez', '+573185550142', 'whatsapp',
   'open', 'es', '{reserva,pago}', '2026-11-09 09:00:00-05', '2026-11-02 18:40:00-05', '2026-11-02 19:05:00-05'),
  ('a5e1738b-7703-402f-8430-24d69d5afac7', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '475f0146-4040-49eb-853e-5abde9a40676', NULL, 'Lucía Fernández', '+573005550177', 'whatsapp',
   'waiting_guest', 'es', '{}', '2026-10-30 10:05:00-05', '2026-10-28 21:03:00-05', '2026-10-30 10:05:00-05'),
  ('6280e881-8e64-4036-ae28-b70214f825e0', 'e9617dde-691f-426c-a924-79006e0a08e1', '761a0c70-00f9-4d68-b477-7f02ee757051', NULL, 'Tom', NULL, 'web',
   'open', 'en', '{}', '2026-11-08 16:20:00-05', '2026-11-08 16:12:00-05', '2026-11-08 16:20:00-05');

-- -----------------------------------------------------------------------------
-- MotoPress (Posada del Mar only)
-- -----------------------------------------------------------------------------
INSERT INTO public.motopress_accommodations
  (id, tenant_id, accommodation_id, motopress_id, name, slug, post_status, adults, children, size_m2, bed_type,
   facilities, base_price, raw_payload, sync_status, last_synced_at, sync_error, created_at, updated_at)
VALUES
  ('26eeaaa4-46c7-43ee-afae-32ff19a5da0a', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '007fc694-8fde-4e6c-a7c4-519a3a030080', 412, 'Suite Vista al Mar', 'suite-vista-al-mar', 'publish',
   2, 1, 32.0, 'King', '{"Aire acondicionado","Balcón","Vista al mar","Wi-Fi"}', 450000.00,
   '{"id": 412, "title": "Suite Vista al Mar", "adults": 2, "children": 1, "size": 32, "bed_type": "King", "categories": [{"id": 27, "name": "Suites"}]}',
   'success', '2026-11-09 10:15:02-05', NULL, '2026-10-12 16:30:01-05', '2026-11-09 10:15:02-05'),
  ('ba4ea76e-c077-40d5-9a0b-3831b7811985', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '9c6e7134-637d-4656-9e3f-958c957084ed', 415, 'Habitación Doble', 'habitacion-doble', 'publish',
   2, 0, 18.0, 'Doble o 2 sencillas', '{"Aire acondicionado","Wi-Fi"}', 280000.00,
   '{"id": 415, "title": "Habitación Doble", "adults": 2, "children": 0, "size": 18, "bed_type": "Doble o 2 sencillas", "categories": [{"id": 28, "name": "Habitaciones"}]}',
   'success', '2026-11-09 10:15:03-05', NULL, '2026-10-12 16:30:01-05', '2026-11-09 10:15:03-05'),
  ('cefa3d6d-bed6-496a-9df4-4186b4d47838', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'f20cc622-4ced-4073-8a5c-45d3b47ee02b', 431, 'Cabaña Sound Bay', 'cabana-sound-bay', 'publish',
   4, 2, 45.0, 'Queen + camarote', '{"Aire acondicionado","Cocineta","Terraza","Wi-Fi"}', 620000.00,
   '{"id": 431, "title": "Cabaña Sound Bay", "adults": 4, "children": 2, "size": 45, "categories": [{"id": 29, "name": "Cabañas"}]}',
   'error', '2026-11-07 10:00:04-05',
   'HTTP 500 from GET /wp-json/mphb/v1/accommodation_types/431: {"code":"internal_server_error","message":"Ha habido un error crítico en esta web."}',
   '2026-10-12 16:30:01-05', '2026-11-10 06:00:05-05'),
  ('97a65d4a-39c2-49fc-9e72-dd908620a34c', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 447, 'Penthouse Spratt Bight (borrador)', 'penthouse-spratt-bight', 'draft',
   4, 0, 70.0, 'King x2', '{"Aire acondicionado","Jacuzzi","Vista al mar","Wi-Fi"}', 1250000.00,
   '{"id": 447, "title": "Penthouse Spratt Bight (borrador)", "status": "draft", "adults": 4}',
   'success', '2026-11-09 10:15:04-05', NULL, '2026-11-09 10:15:04-05', '2026-11-09 10:15:04-05');

INSERT INTO public.motopress_accommodation_units
  (id, tenant_id, motopress_id, motopress_type_id, accommodation_unit_id, title, ical_export_url, ical_import_urls,
   sync_status, last_synced_at, created_at, updated_at)
VALUES
  ('55c66e54-0cbb-4d6a-b152-8f2f83dbfa34', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 418, 412, 'b4ad224d-f514-4e5b-9dff-eb51b10fd725', 'Suite Vista al Mar 1',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=418&key=FAKEdemo0418',
   '{"https://admin.booking.com/hotel/hoteladmin/ical.html?t=00000000-dead-beef-0000-000000000002"}',
   'success', '2026-11-09 10:15:05-05', '2026-10-12 16:30:02-05', '2026-11-09 10:15:05-05'),
  ('70487cf7-982a-4150-a50d-f8ca936bad27', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 419, 412, 'ae4405ff-c516-433f-aa41-2bc672304be8', 'Suite Vista al Mar 2',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=419&key=FAKEdemo0419',
   '{}', 'success', '2026-11-09 10:15:05-05', '2026-10-12 16:30:02-05', '2026-11-09 10:15:05-05'),
  ('78213497-6279-4674-b41b-b2e93e3385a0', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 420, 415, '8ac3bb7a-d5a2-403a-a42f-b2a7ec623e85', 'Habitación Doble 1',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=420&key=FAKEdemo0420',
   '{}', 'success', '2026-11-09 10:15:05-05', '2026-10-12 16:30:02-05', '2026-11-09 10:15:05-05'),
  ('ee1d7e93-f1fb-4a92-8112-4286691599d7', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 421, 415, '7b74ec43-690d-4897-8cc0-2e0ffba9ac03', 'Habitación Doble 2',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=421&key=FAKEdemo0421',
   '{}', 'success', '2026-11-09 10:15:05-05', '2026-10-12 16:30:02-05', '2026-11-09 10:15:05-05'),
  ('f056ca15-f159-40c5-ba5a-6ad2c7ab24e6', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 422, 415, NULL, 'Habitación Doble 3',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=422&key=FAKEdemo0422',
   '{}', 'pending', NULL, '2026-11-09 10:15:05-05', '2026-11-09 10:15:05-05'),
  ('b0804adc-e713-4e4f-8ec0-dc1bb022697b', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 433, 431, '250b42a9-864f-4187-ab82-ac36748974f7', 'Cabaña Sound Bay',
   'https://www.posadadelmar.example/?feed=mphb.ics&accommodation_id=433&key=FAKEdemo0433',
   '{"https://www.airbnb.com/calendar/ical/12345678.ics?s=3f9adeadbeef00000000000000000001","https://admin.booking.com/hotel/hoteladmin/ical.html?t=00000000-dead-beef-0000-000000000001"}',
   'error', '2026-11-07 10:00:05-05', '2026-10-12 16:30:02-05', '2026-11-10 06:00:05-05');

INSERT INTO public.motopress_room_types
  (id, tenant_id, motopress_term_id, name, slug, muva_room_category, default_rate_id, default_rate_title,
   base_rate, currency, bot_aliases, is_active, created_at, updated_at)
VALUES
  ('f61bb1a9-eee8-42cd-8120-f3888f8bd782', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 27, 'Suites', 'suites', 'suite', 501, 'Tarifa flexible', 450000.00, 'COP',
   '{suite,"vista al mar","con balcón"}', true, '2026-10-12 16:35:00-05', '2026-11-09 10:15:06-05'),
  ('56696aa8-0870-41cf-8d79-be814bb9887b', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 28, 'Habitaciones', 'habitaciones', 'standard', 502, 'Tarifa flexible', 280000.00, 'COP',
   '{habitación,doble,cuarto,room}', true, '2026-10-12 16:35:00-05', '2026-11-09 10:15:06-05'),
  ('e805eeb1-161a-4ec5-ad54-5f2ec0291389', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 29, 'Cabañas', 'cabanas', 'family', 507, 'Tarifa no reembolsable', 590000.00, 'COP',
   '{cabaña,bungalow,familiar,cabin}', true, '2026-10-12 16:35:00-05', '2026-11-07 10:00:06-05'),
  ('1933bea9-b313-48e2-a214-ead28723ff3e', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 31, 'Larga estadía', 'larga-estadia', 'apartment', NULL, NULL, NULL, 'COP',
   '{"larga estadía",mensual}', false, '2026-10-12 16:35:00-05', '2026-10-12 16:35:00-05');

INSERT INTO public.motopress_sync_log
  (tenant_id, motopress_accommodation_id, operation, http_method, endpoint, http_status, sync_status,
   items_fetched, items_created, items_updated, duration_ms, error_message, created_at)
VALUES
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types?per_page=100', 200, 'success', 3, 3, 0, 1840, NULL, '2026-10-12 16:30:01-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'accommodations', 'GET', '/wp-json/mphb/v1/accommodations?per_page=100', 200, 'success', 5, 5, 0, 1210, NULL, '2026-10-12 16:30:02-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'cefa3d6d-bed6-496a-9df4-4186b4d47838', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/431', 200, 'success', 1, 0, 0, 690, NULL, '2026-11-07 10:00:04-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types?per_page=100', 200, 'success', 4, 1, 1, 2020, NULL, '2026-11-09 10:15:01-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '26eeaaa4-46c7-43ee-afae-32ff19a5da0a', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/412', 200, 'success', 1, 0, 1, 640, NULL, '2026-11-09 10:15:02-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'ba4ea76e-c077-40d5-9a0b-3831b7811985', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/415', 200, 'success', 1, 0, 0, 610, NULL, '2026-11-09 10:15:03-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'cefa3d6d-bed6-496a-9df4-4186b4d47838', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/431', 500, 'error', 0, 0, 0, 30010,
   '{"code":"internal_server_error","message":"Ha habido un error crítico en esta web.","data":{"status":500}}', '2026-11-09 10:15:04-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '97a65d4a-39c2-49fc-9e72-dd908620a34c', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/447', 200, 'success', 1, 1, 0, 580, NULL, '2026-11-09 10:15:04-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'accommodations', 'GET', '/wp-json/mphb/v1/accommodations?per_page=100', 200, 'success', 6, 1, 0, 1330, NULL, '2026-11-09 10:15:05-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'rates', 'GET', '/wp-json/mphb/v1/rates?per_page=100', 200, 'success', 5, 0, 2, 990, NULL, '2026-11-09 10:15:06-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'webhook', 'POST', '/api/webhooks/motopress/posada-del-mar', 200, 'success', 1, 0, 0, 45, NULL, '2026-11-10 05:59:58-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'bookings', 'GET', '/wp-json/mphb/v1/bookings/1287', 401, 'error', 0, 0, 0, 420,
   '{"code":"jwt_auth_invalid_token","message":"Expired token","data":{"status":401}} - request carried Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJwb3NhZGFkZWxtYXIuZXhhbXBsZSIsInN1YiI6IkZBS0UtZGVtby11c2VyIiwicm9sZSI6Im1waGJfYXBpIiwiZXhwIjoxNzkzNTc3NjAwfQ.FAKEdemoSIGNATUREnotREAL000000000000000000 injected by the site''s JWT plugin ahead of Basic auth',
   '2026-11-10 06:00:01-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'cefa3d6d-bed6-496a-9df4-4186b4d47838', 'accommodation_types', 'GET', '/wp-json/mphb/v1/accommodation_types/431', 500, 'error', 0, 0, 0, 30005,
   '{"code":"internal_server_error","message":"Ha habido un error crítico en esta web.","data":{"status":500}}', '2026-11-10 06:00:05-05'),
  ('5e1bc191-aa21-4294-a9a1-80ed902a6dcb', NULL, 'bookings', 'GET', '/wp-json/mphb/v1/bookings?status=confirmed&per_page=50', 200, 'success', 12, 0, 3, 1720, NULL, '2026-11-10 06:00:07-05');

-- -----------------------------------------------------------------------------
-- Airbnb
-- -----------------------------------------------------------------------------
INSERT INTO public.airbnb_accommodations
  (id, tenant_id, accommodation_id, accommodation_unit_id, airbnb_id, listing_title, host_display_name, ics_feed_url,
   sync_direction, is_active, created_at, updated_at)
VALUES
  ('1f5096ba-9934-4dc8-ac2e-af8cc8dedc0a', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'f20cc622-4ced-4073-8a5c-45d3b47ee02b', '250b42a9-864f-4187-ab82-ac36748974f7', '12345678',
   'Cabaña frente al mar en Sound Bay, San Andrés', 'Marcela',
   'https://www.airbnb.com/calendar/ical/12345678.ics?s=3f9adeadbeef00000000000000000001',
   'two_way', true, '2026-09-05 10:00:00-05', '2026-09-05 10:00:00-05'),
  ('3e93407f-1d5d-4f29-8d2c-10233526ef4d', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '475f0146-4040-49eb-853e-5abde9a40676', '124cd799-5c71-4c7e-bb69-92d3574801cf', '23456789',
   'Apartaestudio luminoso en Laureles, cerca a la 70', 'Carolina',
   'https://www.airbnb.com/calendar/ical/23456789.ics?s=3f9adeadbeef00000000000000000002',
   'two_way', true, '2026-09-15 10:00:00-05', '2026-09-15 10:00:00-05'),
  ('01667d5a-7943-4083-b651-20c92f756dca', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '475f0146-4040-49eb-853e-5abde9a40676', 'b17a8b2e-ad3f-424d-b4bd-2ec3a4e71018', '34567890',
   'Apartaestudio con lavadora - Laureles', 'Carolina',
   'https://www.airbnb.com/calendar/ical/34567890.ics?s=3f9adeadbeef00000000000000000003',
   'two_way', true, '2026-09-15 10:05:00-05', '2026-09-15 10:05:00-05'),
  ('2208c5fb-0b27-4ebb-81e0-d7ca15886862', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'e8ee204a-19ee-4936-b09e-e64b0b448d57', 'd17e639d-339c-4ae6-a99a-f4fc56999ddf', '987654321012345678',
   'Suite ejecutiva con balcón y parqueadero', 'Julián (coanfitrión)',
   'https://www.airbnb.com/calendar/ical/987654321012345678.ics?s=3f9adeadbeef00000000000000000004&locale=es',
   'import', true, '2026-10-20 11:00:00-05', '2026-10-20 11:00:00-05');

INSERT INTO public.airbnb_calendar_sync_status
  (id, tenant_id, airbnb_accommodation_id, sync_status, last_synced_at, last_attempt_at, next_sync_at,
   consecutive_failures, events_in_feed, last_error, created_at, updated_at)
VALUES
  ('d2087d95-c000-4b32-8bd1-5ef85afa8093', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '1f5096ba-9934-4dc8-ac2e-af8cc8dedc0a', 'success', '2026-11-10 09:00:04-05', '2026-11-10 09:00:04-05',
   '2026-11-10 10:00:00-05', 0, 2, NULL, '2026-09-05 10:00:00-05', '2026-11-10 09:00:04-05'),
  ('94864184-fc9f-4b84-964d-e952deb9bf53', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '3e93407f-1d5d-4f29-8d2c-10233526ef4d', 'success', '2026-11-10 09:01:02-05', '2026-11-10 09:01:02-05',
   '2026-11-10 10:01:00-05', 0, 1, NULL, '2026-09-15 10:00:00-05', '2026-11-10 09:01:02-05'),
  ('2c3ca238-49a8-4141-bfa7-e859c2e9c635', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '01667d5a-7943-4083-b651-20c92f756dca', 'error', '2026-11-10 06:02:01-05', '2026-11-10 09:02:01-05',
   '2026-11-10 17:02:00-05', 3, 1,
   'HTTP 410 Gone for https://www.airbnb.com/calendar/ical/34567890.ics?s=3f9adeadbeef00000000000000000003 (listing unlisted or calendar link reset)',
   '2026-09-15 10:05:00-05', '2026-11-10 09:02:01-05'),
  ('9ab2535a-852d-4d3a-9b6e-f6f8c78b81fe', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '2208c5fb-0b27-4ebb-81e0-d7ca15886862', 'running', '2026-11-10 08:03:05-05', '2026-11-10 09:03:00-05',
   '2026-11-10 10:03:00-05', 0, 1, NULL, '2026-10-20 11:00:00-05', '2026-11-10 09:03:00-05');

-- Hourly runs 04:00-09:00 on 2026-11-10 for the four listings (the 09:03 run of
-- listing 501 is still running, so it is not logged yet).
INSERT INTO public.airbnb_sync_log
  (tenant_id, airbnb_accommodation_id, sync_status, triggered_by, http_status, events_in_feed,
   events_created, events_updated, events_cancelled, duration_ms, error_message, created_at)
SELECT l.tenant_id::uuid,
       l.listing_id::uuid,
       CASE WHEN l.code = '303' AND h >= 7 THEN 'error' ELSE 'success' END::public.sync_status,
       'cron',
       CASE WHEN l.code = '303' AND h >= 7 THEN 410
            WHEN l.code = '302' AND h > 4  THEN 304
            ELSE 200 END,
       CASE WHEN l.code = '303' AND h >= 7 THEN NULL ELSE l.events END,
       0,
       CASE WHEN l.code = 'cab' AND h = 4 THEN 1 ELSE 0 END,
       0,
       300 + (h * 37 + l.ord * 53) % 400,
       CASE WHEN l.code = '303' AND h >= 7
            THEN 'HTTP 410 Gone for https://www.airbnb.com/calendar/ical/34567890.ics?s=3f9adeadbeef00000000000000000003'
       END,
       ('2026-11-10 00:00:00-05'::timestamptz + make_interval(hours => h, mins => l.ord - 1, secs => 2 + l.ord))
FROM generate_series(4, 9) AS h
CROSS JOIN (VALUES
  (1, 'cab', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb',   '1f5096ba-9934-4dc8-ac2e-af8cc8dedc0a', 2),
  (2, '302', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '3e93407f-1d5d-4f29-8d2c-10233526ef4d',    1),
  (3, '303', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '01667d5a-7943-4083-b651-20c92f756dca',    1),
  (4, '501', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '2208c5fb-0b27-4ebb-81e0-d7ca15886862',    1)
) AS l (ord, code, tenant_id, listing_id, events)
WHERE NOT (l.code = '501' AND h = 9)
ORDER BY h, l.ord;

INSERT INTO public.airbnb_sync_log
  (tenant_id, airbnb_accommodation_id, sync_status, triggered_by, http_status, events_in_feed,
   events_created, events_updated, events_cancelled, duration_ms, error_message, created_at)
VALUES
  ('f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '3e93407f-1d5d-4f29-8d2c-10233526ef4d', 'success', 'manual', 200, 1, 0, 0, 1, 512, NULL, '2026-11-07 16:00:03-05');

-- airbnb_mphb_imported_reservations: intentionally empty (feature never enabled).
-- airbnb_motopress_comparison: intentionally empty (support script output).

-- -----------------------------------------------------------------------------
-- WhatsApp
-- -----------------------------------------------------------------------------
INSERT INTO public.whatsapp_business_accounts
  (id, tenant_id, waba_id, business_account_name, meta_business_id, app_id, access_token, token_type, token_expires_at,
   app_secret, webhook_verify_token, webhook_callback_url, message_template_namespace, is_active, created_at, updated_at)
VALUES
  ('72d6eda0-f48f-432c-9242-0a63cae121f7', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '115000000000101', 'Posada del Mar San Andrés', '118000000000001', '117000000000001',
   'EAAGFAKEdemoTOKENnotREAL0ZBZCxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKEdemoZBZCxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789FAKEdemoZDZD',
   'system_user', NULL, 'deadbeefcafef00d0000000000000001', 'muva-verify-FAKE-demo-7d1c3e',
   'https://api.muva.example/api/webhooks/whatsapp', NULL, true, '2026-09-06 10:00:00-05', '2026-11-01 08:00:00-05'),
  ('ecd91c7c-031f-4a56-b227-f720b1d03dc1', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '115000000000202', 'Casa Laureles Suites', '118000000000002', '117000000000001',
   'EAAGFAKEdemoUSERtokenNOTreal1ZBZCxLaUrElEsSuItEs0123456789FAKEdemoZBZCxQwErTyUiOpAsDfGhJkLzXcVbNm9876543210FAKEdemoZDZD',
   'user', '2026-12-19 11:00:00-05', 'deadbeefcafef00d0000000000000001', 'muva-verify-FAKE-demo-2b9e41',
   'https://api.muva.example/api/webhooks/whatsapp', 'deadbeef_0000_4000_8000_00000000demo', true,
   '2026-10-20 11:00:00-05', '2026-10-20 11:00:00-05');

INSERT INTO public.whatsapp_phone_numbers
  (id, tenant_id, business_account_id, phone_number_id, phone_number, display_phone_number, verified_name,
   quality_rating, code_verification_status, messaging_limit_tier, two_step_pin, is_default, registered_at, created_at, updated_at)
VALUES
  ('3794b055-8bff-49ee-95ea-13eb6c668ca7', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '116000000000111', '+573185550100', '+57 318 5550100',
   'Posada del Mar', 'GREEN', 'VERIFIED', 'TIER_1K', '000000', true, '2026-09-06 10:20:00-05', '2026-09-06 10:10:00-05', '2026-10-01 00:00:00-05'),
  ('d9cbc7aa-c48b-46f8-ab1f-e624ef87c2bc', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '116000000000112', '+573185550101', '+57 318 5550101',
   'Posada del Mar Reservas', 'YELLOW', 'VERIFIED', 'TIER_250', '000000', false, '2026-10-05 12:00:00-05', '2026-10-05 11:40:00-05', '2026-11-04 00:00:00-05'),
  ('915f6463-2a08-4acc-845c-488c53315a7a', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'ecd91c7c-031f-4a56-b227-f720b1d03dc1', '116000000000221', '+573005550120', '+57 300 5550120',
   'Casa Laureles Suites', 'UNKNOWN', 'VERIFIED', 'TIER_250', '000000', true, '2026-10-20 11:20:00-05', '2026-10-20 11:10:00-05', '2026-10-20 11:20:00-05');

INSERT INTO public.whatsapp_messages
  (id, tenant_id, whatsapp_phone_number_id, conversation_id, wamid, direction, guest_phone_number, message_type, body,
   template_name, status, error_code, error_title, pricing_category, sent_at, delivered_at, read_at, raw_webhook, created_at)
VALUES
  -- Jennifer Walsh -> Posada del Mar (English)
  ('bac52849-be94-47d5-85d4-6ac9d8c554a8', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', 'e6d29ffb-7fd3-4835-989e-b31dc4864e95', 'wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwMQ==', 'inbound', '+12025550143', 'text',
   'Hi! Do you have a sea-view room for Nov 20-24, 2 adults?', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "573185550100", "phone_number_id": "116000000000111"}, "contacts": [{"profile": {"name": "Jennifer Walsh"}, "wa_id": "12025550143"}], "messages": [{"from": "12025550143", "id": "wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwMQ==", "timestamp": "1791987120", "type": "text", "text": {"body": "Hi! Do you have a sea-view room for Nov 20-24, 2 adults?"}}]}',
   '2026-10-14 09:12:00-05'),
  ('9d38e100-8fea-4be1-a2f3-a565720dc150', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', 'e6d29ffb-7fd3-4835-989e-b31dc4864e95', 'wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwMg==', 'outbound', '+12025550143', 'text',
   'Hi Jennifer! Our Suite Vista al Mar is free Nov 20-24 for 2 adults: COP 450,000 per night, balcony facing the sea. Shall I hold it for you?',
   NULL, 'read', NULL, NULL, 'service', '2026-10-14 09:12:41-05', '2026-10-14 09:12:42-05', '2026-10-14 09:13:05-05', NULL,
   '2026-10-14 09:12:40-05'),
  ('33dc787d-828b-46da-a328-ae9ac7157447', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', 'e6d29ffb-7fd3-4835-989e-b31dc4864e95', 'wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwMw==', 'inbound', '+12025550143', 'text',
   'Yes please. How do I get there from the airport?', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '2026-10-14 09:20:00-05'),
  ('98308fd6-4ce1-452a-b5f6-7b68bc55be5c', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', 'e6d29ffb-7fd3-4835-989e-b31dc4864e95', 'wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwNA==', 'outbound', '+12025550143', 'text',
   'It is a 10-minute taxi ride (about COP 20,000). I have passed your booking to our front desk, they will confirm shortly.',
   NULL, 'read', NULL, NULL, 'service', '2026-10-14 09:20:31-05', '2026-10-14 09:20:32-05', '2026-10-14 09:21:10-05', NULL,
   '2026-10-14 09:20:30-05'),
  ('7863b94c-51c2-49f2-a749-a8b1b9fdd5c3', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', 'e6d29ffb-7fd3-4835-989e-b31dc4864e95', 'wamid.HBgLMTIwMjU1NTAxNDMVAgASGBQzRUIwRkFLRURFTU8wMDAwMDAwNQ==', 'outbound', '+12025550143', 'template',
   NULL, 'reserva_confirmada', 'read', NULL, NULL, 'utility', '2026-10-14 15:02:01-05', '2026-10-14 15:02:03-05', '2026-10-14 15:40:00-05', NULL,
   '2026-10-14 15:02:00-05'),
  -- Andrés Felipe Gómez -> Posada del Mar
  ('7841446c-743e-4e1a-8f40-af71008ea401', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', '05cbbe22-b823-4eca-a4cc-945b06473199', 'wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDY=', 'inbound', '+573185550142', 'text',
   'Buenas tardes, ¿tienen cabaña para 4 personas el puente festivo de noviembre?', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "573185550100", "phone_number_id": "116000000000111"}, "contacts": [{"profile": {"name": "Andrés Felipe"}, "wa_id": "573185550142"}], "messages": [{"from": "573185550142", "id": "wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDY=", "timestamp": "1793662800", "type": "text", "text": {"body": "Buenas tardes, ¿tienen cabaña para 4 personas el puente festivo de noviembre?"}}]}',
   '2026-11-02 18:40:00-05'),
  ('071f94fe-807b-47d8-bc4d-920643e22476', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', '05cbbe22-b823-4eca-a4cc-945b06473199', 'wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDc=', 'outbound', '+573185550142', 'text',
   '¡Hola Andrés! La Cabaña Familiar Sound Bay está libre del 13 al 17 de noviembre: COP 620.000 por noche, hasta 4 adultos y 2 niños. Para reservar pedimos un depósito del 30 %.',
   NULL, 'read', NULL, NULL, 'service', '2026-11-02 18:40:26-05', '2026-11-02 18:40:27-05', '2026-11-02 18:41:02-05', NULL,
   '2026-11-02 18:40:25-05'),
  ('7f7c6f0f-786a-4c70-9cc4-273d0ad3e5ce', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', '05cbbe22-b823-4eca-a4cc-945b06473199', 'wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDg=', 'inbound', '+573185550142', 'image',
   'Comprobante de pago', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "573185550100", "phone_number_id": "116000000000111"}, "messages": [{"from": "573185550142", "id": "wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDg=", "timestamp": "1793663700", "type": "image", "image": {"caption": "Comprobante de pago", "mime_type": "image/jpeg", "id": "119000000000801"}}]}',
   '2026-11-02 18:55:00-05'),
  ('4113b545-a52c-4776-ac8b-688531ba0c0d', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', '05cbbe22-b823-4eca-a4cc-945b06473199', 'wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMDk=', 'outbound', '+573185550142', 'text',
   'Recibido, Andrés. Kevin de recepción te confirma la reserva en unos minutos.', NULL, 'delivered', NULL, NULL, 'service',
   '2026-11-02 19:05:01-05', '2026-11-02 19:05:02-05', NULL, NULL, '2026-11-02 19:05:00-05'),
  ('246aa8e2-3aee-4f29-96d1-a003640da87a', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '3794b055-8bff-49ee-95ea-13eb6c668ca7', '05cbbe22-b823-4eca-a4cc-945b06473199', 'wamid.HBgMNTczMTg1NTUwMTQyFQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTA=', 'outbound', '+573185550142', 'template',
   NULL, 'recordatorio_check_in', 'failed', 131026, 'Message undeliverable', NULL, NULL, NULL, NULL, NULL,
   '2026-11-09 09:00:00-05'),
  -- Lucía Fernández -> Casa Laureles
  ('a6ecba9c-4a01-44ff-9c70-642366d89c33', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '915f6463-2a08-4acc-845c-488c53315a7a', 'a5e1738b-7703-402f-8430-24d69d5afac7', 'wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTE=', 'inbound', '+573005550177', 'text',
   'Hola, ¿el apartaestudio tiene cocina y lavadora?', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "573005550120", "phone_number_id": "116000000000221"}, "contacts": [{"profile": {"name": "Lucía F."}, "wa_id": "573005550177"}], "messages": [{"from": "573005550177", "id": "wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTE=", "timestamp": "1793239380", "type": "text", "text": {"body": "Hola, ¿el apartaestudio tiene cocina y lavadora?"}}]}',
   '2026-10-28 21:03:00-05'),
  ('2b66da3b-acc5-4e60-868e-c9f1fb7e1efa', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '915f6463-2a08-4acc-845c-488c53315a7a', 'a5e1738b-7703-402f-8430-24d69d5afac7', 'wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTI=', 'outbound', '+573005550177', 'text',
   'Hola Lucía, sí: cocina equipada y lavadora dentro del apartaestudio. ¿Para qué fechas lo buscas?', NULL, 'read', NULL, NULL, 'service',
   '2026-10-28 21:03:21-05', '2026-10-28 21:03:22-05', '2026-10-28 21:09:40-05', NULL, '2026-10-28 21:03:20-05'),
  ('1638634f-33b3-4578-adf4-740bcd62db8b', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '915f6463-2a08-4acc-845c-488c53315a7a', 'a5e1738b-7703-402f-8430-24d69d5afac7', 'wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTM=', 'inbound', '+573005550177', 'reaction',
   '👍', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-10-28 21:10:00-05'),
  ('0f740619-669e-4801-a61f-36044d312062', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '915f6463-2a08-4acc-845c-488c53315a7a', 'a5e1738b-7703-402f-8430-24d69d5afac7', 'wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTQ=', 'outbound', '+573005550177', 'text',
   'Lucía, ¿pudiste revisar las fechas? Tenemos disponibilidad la próxima semana.', NULL, 'failed', 131047, 'Re-engagement message', NULL,
   NULL, NULL, NULL, NULL, '2026-10-30 10:00:00-05'),
  ('9d10e77b-6430-49e5-b372-4d9f363241e3', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', '915f6463-2a08-4acc-845c-488c53315a7a', 'a5e1738b-7703-402f-8430-24d69d5afac7', 'wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTU=', 'outbound', '+573005550177', 'template',
   NULL, 'confirmacion_reserva', 'delivered', NULL, NULL, 'utility', '2026-10-30 10:05:01-05', '2026-10-30 10:05:04-05', NULL, NULL,
   '2026-10-30 10:05:00-05'),
  -- Unknown sender on the reservations number; conversation deleted on request.
  ('3c95b7b4-c877-45b8-b39d-4bd591302599', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', 'd9cbc7aa-c48b-46f8-ab1f-e624ef87c2bc', NULL, 'wamid.HBgMNTczMjE1NTUwMTk5FQIAEhgUM0VCMEZBS0VERU1PMDAwMDAwMTY=', 'inbound', '+573215550199', 'text',
   'Info precios', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-11-05 22:47:00-05');

INSERT INTO public.whatsapp_message_templates
  (id, tenant_id, business_account_id, meta_template_id, name, language, category, status, rejected_reason, components,
   last_synced_at, created_at, updated_at)
VALUES
  ('70890303-94ff-4857-bf45-cb6a865e2c59', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '119000000000011', 'reserva_confirmada', 'es', 'UTILITY', 'APPROVED', NULL,
   '[{"type": "HEADER", "format": "TEXT", "text": "Reserva confirmada"},
     {"type": "BODY", "text": "Hola {{1}}, tu reserva en {{2}} del {{3}} al {{4}} está confirmada. Código: {{5}}."},
     {"type": "FOOTER", "text": "Posada del Mar San Andrés"},
     {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Ver reserva", "url": "https://www.posadadelmar.example/reserva/{{1}}"}]}]',
   '2026-11-10 04:00:00-05', '2026-09-06 11:00:00-05', '2026-09-07 08:00:00-05'),
  ('3641caad-067e-473f-aaac-b548ec77306b', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '119000000000012', 'reserva_confirmada', 'en_US', 'UTILITY', 'APPROVED', NULL,
   '[{"type": "HEADER", "format": "TEXT", "text": "Booking confirmed"},
     {"type": "BODY", "text": "Hi {{1}}, your stay at {{2}} from {{3}} to {{4}} is confirmed. Code: {{5}}."},
     {"type": "FOOTER", "text": "Posada del Mar San Andrés"}]',
   '2026-11-10 04:00:00-05', '2026-09-06 11:05:00-05', '2026-09-07 08:00:00-05'),
  ('50ac9355-ed51-468c-a79b-0d624839c86e', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '119000000000013', 'recordatorio_check_in', 'es', 'UTILITY', 'APPROVED', NULL,
   '[{"type": "BODY", "text": "Hola {{1}}, te esperamos mañana desde las {{2}}. ¿A qué hora llega tu vuelo?"},
     {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Enviar hora de llegada"}]}]',
   '2026-11-10 04:00:00-05', '2026-09-10 09:00:00-05', '2026-09-11 10:00:00-05'),
  ('c8f7c2d5-07cd-411b-ae0b-ac2f09fd03fd', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '119000000000014', 'promo_temporada_baja', 'es', 'MARKETING', 'REJECTED', 'PROMOTIONAL',
   '[{"type": "BODY", "text": "¡{{1}}, vuelve a San Andrés con 25 % de descuento! Solo esta semana."}]',
   '2026-11-10 04:00:00-05', '2026-10-25 17:00:00-05', '2026-10-26 09:00:00-05'),
  ('965422aa-3083-4b75-a179-cb3c7c1852ca', '5e1bc191-aa21-4294-a9a1-80ed902a6dcb', '72d6eda0-f48f-432c-9242-0a63cae121f7', '119000000000015', 'codigo_verificacion', 'es', 'AUTHENTICATION', 'APPROVED', NULL,
   '[{"type": "BODY", "add_security_recommendation": true},
     {"type": "FOOTER", "code_expiration_minutes": 10},
     {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copiar código"}]}]',
   '2026-11-10 04:00:00-05', '2026-09-20 10:00:00-05', '2026-09-20 12:00:00-05'),
  ('8b6eec31-ffe9-4583-ba09-6158939e7f64', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'ecd91c7c-031f-4a56-b227-f720b1d03dc1', '119000000000021', 'confirmacion_reserva', 'es', 'UTILITY', 'APPROVED', NULL,
   '[{"type": "BODY", "text": "Hola {{1}}, confirmamos tu estadía en Casa Laureles del {{2}} al {{3}}. El check-in es desde las 3 p. m."}]',
   '2026-11-10 04:00:00-05', '2026-10-20 11:30:00-05', '2026-10-21 09:00:00-05'),
  ('ae6636a3-a393-476e-b71f-2f86ec850d36', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'ecd91c7c-031f-4a56-b227-f720b1d03dc1', '119000000000022', 'bienvenida_huesped', 'es', 'UTILITY', 'PENDING', NULL,
   '[{"type": "BODY", "text": "Bienvenido/a {{1}}. La clave del Wi-Fi y la guía de la casa están aquí: {{2}}"}]',
   '2026-11-10 04:00:00-05', '2026-11-09 18:00:00-05', '2026-11-09 18:00:00-05'),
  ('141a964b-6ff3-48f5-be29-5b8820d935a2', 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed', 'ecd91c7c-031f-4a56-b227-f720b1d03dc1', '119000000000023', 'encuesta_salida', 'es', 'MARKETING', 'PAUSED', NULL,
   '[{"type": "BODY", "text": "Gracias por quedarte con nosotros, {{1}}. ¿Nos regalas un minuto para calificar tu estadía?"},
     {"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Calificar", "url": "https://casalaureles.example/encuesta/{{1}}"}]}]',
   '2026-11-10 04:00:00-05', '2026-10-22 10:00:00-05', '2026-11-03 07:00:00-05');

-- -----------------------------------------------------------------------------
-- sync_history: exactly 85 job runs, 2026-09-01 .. 2026-11-07, generated
-- deterministically. Every 17th run failed; the last one is still running.
-- Pattern by i % 5: 0 Laureles/airbnb, 1 Posada/motopress, 2 Posada/airbnb,
-- 3 Laureles/whatsapp, 4 Posada/whatsapp.
-- -----------------------------------------------------------------------------
INSERT INTO public.sync_history
  (tenant_id, integration_type, operation, status, triggered_by, started_at, finished_at,
   records_processed, records_failed, error_message, details)
SELECT
  CASE WHEN i % 5 IN (0, 3) THEN 'f1d67bc7-dc51-4af3-8353-a8476b7f31ed'::uuid ELSE '5e1bc191-aa21-4294-a9a1-80ed902a6dcb'::uuid END,
  (ARRAY['airbnb', 'motopress', 'airbnb', 'whatsapp', 'whatsapp'])[i % 5 + 1],
  CASE i % 5
    WHEN 1 THEN CASE WHEN i % 10 = 1 THEN 'full_sync' ELSE 'incremental_sync' END
    WHEN 0 THEN 'calendar_fetch'
    WHEN 2 THEN 'calendar_fetch'
    ELSE 'template_sync'
  END,
  (CASE WHEN i = 85 THEN 'running' WHEN i % 17 = 0 THEN 'error' ELSE 'success' END)::public.sync_status,
  CASE WHEN i % 5 = 1 THEN (CASE WHEN i % 3 = 0 THEN 'manual' ELSE 'webhook' END) ELSE 'cron' END,
  started,
  CASE WHEN i = 85 THEN NULL ELSE started + make_interval(secs => ((i * 7919) % 45000 + 1200) / 1000.0) END,
  CASE WHEN i = 85 THEN 0 WHEN i % 17 = 0 THEN 0 ELSE (i * 13) % 40 + 1 END,
  CASE WHEN i % 17 = 0 AND i <> 85 THEN 1 ELSE 0 END,
  CASE i
    WHEN 17 THEN 'HTTP 503 from www.airbnb.com (calendar/ical/12345678.ics): Service Unavailable, retry-after 600'
    WHEN 34 THEN '(#190) Error validating access token: Session has expired. Token EAAGFAKEdemoEXPIREDtokenNOTreal0ZBZCxExPiReD0123456789ZDZD rejected'
    WHEN 51 THEN 'MotoPress 401 rest_forbidden: Sorry, you are not allowed to do that. (consumer key ck_deadbeef00000000000000000000000000000001 revoked?)'
    WHEN 68 THEN '(#131009) Parameter value is not valid: template components out of date for confirmacion_reserva'
  END,
  jsonb_build_object(
    'run', i,
    'worker', 'sync-worker-' || (i % 3 + 1),
    'attempt', CASE WHEN i % 17 = 0 THEN 3 ELSE 1 END
  )
FROM generate_series(1, 85) AS i
CROSS JOIN LATERAL (
  SELECT '2026-09-01 06:00:00-05'::timestamptz
         + make_interval(hours => (i - 1) * 19, mins => (i * 7) % 60) AS started
) AS s
ORDER BY i;

-- =============================================================================
-- TRIGGERS (created after the data load, as pg_dump does, so loading the demo
-- rows does not fire them and the data stays identical across loads)
-- =============================================================================

CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.tenant_registry
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.tenant_registry IS 'Stamps updated_at on plan or status changes; billing sync reads rows changed since its last run.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.staff_users
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.staff_users IS 'Stamps updated_at; the auth sync copies changed names and roles to the login provider.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.accommodations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.accommodations IS 'Stamps updated_at so the assistant context cache is rebuilt for changed accommodations only.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.accommodation_units
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.accommodation_units IS 'Stamps updated_at so the calendar export regenerates feeds of changed units only.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.integration_configs
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.integration_configs IS 'Stamps updated_at; workers reload credentials when updated_at moves.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.ics_feed_configurations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.ics_feed_configurations IS 'Stamps updated_at on every fetch bookkeeping change (status, ETag, failures).';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.calendar_events
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.calendar_events IS 'Stamps updated_at when a feed changes an event; the export feed uses it as LAST-MODIFIED.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.guest_conversations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.guest_conversations IS 'Stamps updated_at on status, assignment or last_message_at changes.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.motopress_accommodations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.motopress_accommodations IS 'Stamps updated_at on every sync upsert that changes the row.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.motopress_accommodation_units
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.motopress_accommodation_units IS 'Stamps updated_at on every sync upsert that changes the row.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.motopress_room_types
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.motopress_room_types IS 'Stamps updated_at when staff remap a category or a sync refreshes the rate.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.airbnb_accommodations
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.airbnb_accommodations IS 'Stamps updated_at when staff relink a listing or replace its feed URL.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.airbnb_calendar_sync_status
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.airbnb_calendar_sync_status IS 'Stamps updated_at on every state change of the hourly job.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.whatsapp_business_accounts
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.whatsapp_business_accounts IS 'Stamps updated_at on token rotation; the sender drops its cached token when it moves.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.whatsapp_phone_numbers
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.whatsapp_phone_numbers IS 'Stamps updated_at on quality-rating and tier updates from Meta webhooks.';
CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.whatsapp_message_templates
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
COMMENT ON TRIGGER set_updated_at ON public.whatsapp_message_templates IS 'Stamps updated_at on review-status webhooks and template edits.';

CREATE TRIGGER bump_conversation_last_message AFTER INSERT ON public.whatsapp_messages
  FOR EACH ROW EXECUTE FUNCTION public.bump_conversation_last_message();
COMMENT ON TRIGGER bump_conversation_last_message ON public.whatsapp_messages IS 'Keeps guest_conversations.last_message_at current so the staff inbox can sort without reading messages.';

-- =============================================================================
-- PRIVILEGES (Supabase style: anon gets nothing here; RLS does the filtering)
-- =============================================================================
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO authenticated, service_role;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO service_role;

-- Row-count statistics for the documentation cards. Flush this session's
-- pending insert counters first (PostgreSQL 15+), otherwise they land in
-- pg_stat_user_tables after ANALYZE and n_live_tup shows twice the rows.
DO $$
BEGIN
  IF to_regprocedure('pg_catalog.pg_stat_force_next_flush()') IS NOT NULL THEN
    PERFORM pg_catalog.pg_stat_force_next_flush();
  END IF;
END
$$;
ANALYZE;
