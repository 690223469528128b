-- One row per series: a metric name plus its full label set, keyed by a fingerprint of both.
-- ReplacingMergeTree keeps the latest sighting of each series; read it with FINAL or argMax.
CREATE TABLE IF NOT EXISTS series
(
    fingerprint UInt64,
    metric LowCardinality(String),
    type LowCardinality(String),
    unit LowCardinality(String),
    description String CODEC(ZSTD),
    service LowCardinality(String),
    labels Map(LowCardinality(String), String) CODEC(ZSTD),
    last_seen DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD)
)
ENGINE = ReplacingMergeTree(last_seen)
ORDER BY (service, metric, fingerprint);
