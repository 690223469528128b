-- Notifications (issue 13): channels with sealed secrets, silences, maintenance windows, the grouping state of the
-- pipeline, deliveries (the outbox and the log), acknowledgements and incidents.

-- A rule's overrides of the notification policy (groupBy, groupWaitMs, groupIntervalMs, repeatIntervalMs,
-- sendResolved); an absent key takes the service's default.
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS notification jsonb NOT NULL DEFAULT '{}';

CREATE TABLE IF NOT EXISTS notification_channels (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type text NOT NULL CHECK (type IN ('webhook', 'slack', 'email', 'http')),
    -- Settings without secrets.
    settings jsonb NOT NULL,
    -- Secret name → value sealed by SecretBox for this row's id (NOTIFICATION_SECRET_KEY).
    secrets jsonb NOT NULL DEFAULT '{}',
    templates jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS silences (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    matchers jsonb NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by text NOT NULL,
    comment text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS silences_ends_at ON silences (ends_at);

CREATE TABLE IF NOT EXISTS maintenance_windows (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL,
    time_zone text NOT NULL,
    -- ISO weekdays, 1 (Monday) to 7 (Sunday).
    days jsonb NOT NULL,
    start_minute integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute integer NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    matchers jsonb NOT NULL DEFAULT '[]',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One group per channel × rule × values of its groupBy labels: what the pipeline waits on, and what it sent last.
CREATE TABLE IF NOT EXISTS notification_groups (
    key text PRIMARY KEY,
    channel_id uuid NOT NULL,
    rule_id uuid NOT NULL,
    severity text NOT NULL,
    group_labels jsonb NOT NULL,
    -- The effective policy (defaults applied) of the latest change: groupWaitMs, groupIntervalMs, repeatIntervalMs, sendResolved.
    policy jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When the group is due to be looked at; null: nothing to do until an alert changes.
    next_flush_at timestamptz,
    last_flush_at timestamptz,
    last_sent_at timestamptz,
    -- Alert ids of the firing alerts in the latest message.
    last_sent_firing jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS notification_groups_due ON notification_groups (next_flush_at) WHERE next_flush_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS notification_alerts (
    group_key text NOT NULL REFERENCES notification_groups (key) ON DELETE CASCADE,
    -- The Alert id (rule id and instance key).
    alert_id text NOT NULL,
    state text NOT NULL CHECK (state IN ('firing', 'resolved')),
    severity text NOT NULL,
    labels jsonb NOT NULL,
    annotations jsonb NOT NULL,
    value double precision,
    -- For log conditions: the newest matching lines when it fired.
    log_lines jsonb NOT NULL DEFAULT '[]',
    starts_at timestamptz NOT NULL,
    ends_at timestamptz,
    -- The history id of the latest change applied: a change seen again (a redelivered job) is skipped.
    last_change_id bigint NOT NULL,
    PRIMARY KEY (group_key, alert_id)
);
CREATE INDEX IF NOT EXISTS notification_alerts_firing ON notification_alerts (severity) WHERE state = 'firing';
CREATE INDEX IF NOT EXISTS notification_alerts_alert ON notification_alerts (alert_id);

-- Firing alerts someone acknowledged: their repeats stop until they resolve.
CREATE TABLE IF NOT EXISTS notification_acks (
    alert_id text PRIMARY KEY,
    acknowledged_by text NOT NULL,
    acknowledged_at timestamptz NOT NULL DEFAULT now()
);

-- Every message: written with the group's state in one transaction (the outbox), then delivered through BullMQ.
CREATE TABLE IF NOT EXISTS notification_deliveries (
    id bigserial PRIMARY KEY,
    -- Per group, state and time: a flush committed twice cannot make a second message.
    idempotency_key text NOT NULL UNIQUE,
    group_key text NOT NULL,
    channel_id uuid NOT NULL,
    channel_name text NOT NULL,
    group_labels jsonb NOT NULL,
    state text NOT NULL CHECK (state IN ('firing', 'resolved')),
    title text NOT NULL,
    alert_count integer NOT NULL,
    -- The message as the channel renders it.
    message jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    -- Times it was re-driven from the dead letters (the BullMQ job id carries it).
    redrives integer NOT NULL DEFAULT 0,
    last_error text,
    response_status integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz
);
CREATE INDEX IF NOT EXISTS notification_deliveries_pending ON notification_deliveries (id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notification_deliveries_status ON notification_deliveries (status, id DESC);
CREATE INDEX IF NOT EXISTS notification_deliveries_created ON notification_deliveries (created_at DESC, id DESC);

CREATE TABLE IF NOT EXISTS incidents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    services jsonb NOT NULL,
    root_cause text NOT NULL,
    -- The first alert: its messages speak for the incident; the others' are not sent.
    lead_alert_id text NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now(),
    last_fired_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz
);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (last_fired_at) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at DESC);

CREATE TABLE IF NOT EXISTS incident_alerts (
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert_id text NOT NULL,
    alertname text NOT NULL,
    service text NOT NULL,
    fired_at timestamptz NOT NULL,
    resolved_at timestamptz,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX IF NOT EXISTS incident_alerts_alert ON incident_alerts (alert_id);
