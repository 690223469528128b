-- The instrumentation scope a series comes from (name, version, attributes), kept apart from its labels: scope
-- attributes were merged into the labels before. The scope is part of the series' identity, as in OpenTelemetry's
-- data model (two libraries reporting one metric name are two series), but matchers and groupBy see labels only.
-- Series stored before read an empty scope. Each statement is safe to run again.
ALTER TABLE series ADD COLUMN IF NOT EXISTS scope_name LowCardinality(String) DEFAULT '';
ALTER TABLE series ADD COLUMN IF NOT EXISTS scope_version LowCardinality(String) DEFAULT '';
ALTER TABLE series ADD COLUMN IF NOT EXISTS scope_attributes Map(LowCardinality(String), String) CODEC(ZSTD);
