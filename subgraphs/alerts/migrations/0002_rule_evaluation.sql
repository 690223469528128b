-- Rules as issue 12 defines them, their evaluation state, the history of state changes and an audit log of rule
-- changes. Enumerations are stored as SPEC §2 spells them (lower case); GraphQL shows them upper case.

-- Durations in milliseconds: rule authors may write 1500ms.
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS for_ms bigint NOT NULL DEFAULT 0 CHECK (for_ms >= 0);
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS evaluation_interval_ms bigint NOT NULL DEFAULT 60000 CHECK (evaluation_interval_ms >= 10000);
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS keep_firing_for_ms bigint NOT NULL DEFAULT 0 CHECK (keep_firing_for_ms >= 0);
UPDATE alert_rules SET for_ms = for_seconds * 1000, evaluation_interval_ms = evaluation_interval_seconds * 1000;
ALTER TABLE alert_rules DROP COLUMN for_seconds;
ALTER TABLE alert_rules DROP COLUMN evaluation_interval_seconds;

ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS group_by jsonb NOT NULL DEFAULT '[]';
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS recovery_threshold double precision;
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS no_data_state text NOT NULL DEFAULT 'nodata'
    CHECK (no_data_state IN ('nodata', 'alerting', 'ok', 'keep_last'));
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS error_state text NOT NULL DEFAULT 'error'
    CHECK (error_state IN ('error', 'alerting', 'ok', 'keep_last'));
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS channels jsonb NOT NULL DEFAULT '[]';

-- alertRules pages by name, then id.
CREATE INDEX IF NOT EXISTS alert_rules_name ON alert_rules (name, id);

-- One row per rule × label set that is not quiet (evaluation.ts drops instances inactive for an hour).
CREATE TABLE IF NOT EXISTS alert_instances (
    rule_id uuid NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    -- labelSetKey(labels): the instance's identity within its rule.
    instance_key text NOT NULL,
    labels jsonb NOT NULL,
    -- The `service` label as notifications see it (rule labels, then the series' service or service.name).
    service text,
    state text NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'resolved', 'nodata', 'error')),
    -- When the instance entered its current state.
    since timestamptz NOT NULL,
    value double precision,
    active_at timestamptz,
    fired_at timestamptz,
    resolved_at timestamptz,
    keep_firing_since timestamptz,
    last_evaluated_at timestamptz,
    error text,
    -- Times of state changes in the last hour (flapping), in Unix milliseconds.
    changes jsonb NOT NULL DEFAULT '[]',
    -- The rule's annotations rendered for this instance at its latest evaluation.
    annotations jsonb NOT NULL DEFAULT '{}',
    rule_version integer NOT NULL,
    PRIMARY KEY (rule_id, instance_key)
);
CREATE INDEX IF NOT EXISTS alert_instances_service ON alert_instances (service) WHERE service IS NOT NULL;
CREATE INDEX IF NOT EXISTS alert_instances_state ON alert_instances (state);

-- The latest evaluation of each rule: the row an evaluation locks, so that a scheduled time is evaluated once.
CREATE TABLE IF NOT EXISTS alert_rule_evaluations (
    rule_id uuid PRIMARY KEY REFERENCES alert_rules (id) ON DELETE CASCADE,
    last_evaluated_at timestamptz NOT NULL,
    evaluations bigint NOT NULL DEFAULT 0,
    last_duration_ms double precision NOT NULL DEFAULT 0,
    last_error text
);

-- Every state change, kept after its rule is deleted. `event` is the change as published for notifications;
-- `published_at` stays null until it is on the queue (the outbox the publisher drains).
CREATE TABLE IF NOT EXISTS alert_state_history (
    id bigserial PRIMARY KEY,
    rule_id uuid NOT NULL,
    instance_key text NOT NULL,
    labels jsonb NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    at timestamptz NOT NULL,
    value double precision,
    rule_version integer NOT NULL,
    event jsonb NOT NULL,
    published_at timestamptz
);
CREATE INDEX IF NOT EXISTS alert_state_history_rule_at ON alert_state_history (rule_id, at DESC, id DESC);
CREATE INDEX IF NOT EXISTS alert_state_history_unpublished ON alert_state_history (id) WHERE published_at IS NULL;

-- Who changed which rule when, and how (the changed fields, each {from, to}); kept after the rule is deleted.
CREATE TABLE IF NOT EXISTS alert_rule_audit (
    id bigserial PRIMARY KEY,
    rule_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'enable', 'disable')),
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL,
    diff jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_rule_audit_rule ON alert_rule_audit (rule_id, id DESC);
