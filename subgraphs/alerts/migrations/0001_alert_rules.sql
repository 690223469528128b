-- Alert rules (SPEC §2). Conditions, labels and annotations are JSON documents validated by the service.
CREATE TABLE IF NOT EXISTS alert_rules (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '',
    conditions jsonb NOT NULL DEFAULT '[]',
    match text NOT NULL DEFAULT 'all' CHECK (match IN ('all', 'any')),
    for_seconds integer NOT NULL DEFAULT 0 CHECK (for_seconds >= 0),
    evaluation_interval_seconds integer NOT NULL DEFAULT 60 CHECK (evaluation_interval_seconds >= 10),
    severity text NOT NULL DEFAULT 'medium' CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    labels jsonb NOT NULL DEFAULT '{}',
    annotations jsonb NOT NULL DEFAULT '{}',
    enabled boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);

-- Rules are listed per service (Service.rules) through their `service` label.
CREATE INDEX IF NOT EXISTS alert_rules_service ON alert_rules ((labels ->> 'service'));
