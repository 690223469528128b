-- Raw samples of every series, ordered for range scans of one series. Retries are dropped at ingest (a sample
-- whose series and timestamp are already stored is skipped); ReplacingMergeTree also collapses any that slip
-- through concurrent writers, on merge.
CREATE TABLE IF NOT EXISTS samples
(
    fingerprint UInt64,
    metric LowCardinality(String),
    timestamp DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD),
    value Float64 CODEC(Gorilla, ZSTD),
    -- Histograms: explicit upper bounds and per-bucket counts as OTLP sends them (exponential histograms are
    -- converted to explicit bounds), so quantiles can be interpolated within buckets; empty for other types.
    bucket_bounds Array(Float64) CODEC(ZSTD),
    bucket_counts Array(UInt64) CODEC(ZSTD),
    count UInt64 CODEC(T64, ZSTD),
    sum Float64 CODEC(Gorilla, ZSTD)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (fingerprint, timestamp)
TTL toDateTime(timestamp) + INTERVAL 90 DAY;

-- The 1-minute rollup queries read first (steps of a minute or more).
CREATE TABLE IF NOT EXISTS samples_1m
(
    fingerprint UInt64,
    metric LowCardinality(String),
    minute DateTime('UTC') CODEC(DoubleDelta, ZSTD),
    sum_state AggregateFunction(sum, Float64),
    count_state AggregateFunction(count),
    min_state AggregateFunction(min, Float64),
    max_state AggregateFunction(max, Float64),
    last_state AggregateFunction(argMax, Float64, DateTime64(3, 'UTC')),
    quantiles_state AggregateFunction(quantilesTDigest(0.5, 0.9, 0.95, 0.99), Float64),
    bucket_bounds SimpleAggregateFunction(anyLast, Array(Float64)),
    bucket_counts_state AggregateFunction(sumForEach, Array(UInt64))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (metric, fingerprint, minute)
TTL minute + INTERVAL 180 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS samples_1m_mv TO samples_1m AS
SELECT
    fingerprint,
    metric,
    toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute,
    sumState(value) AS sum_state,
    countState() AS count_state,
    minState(value) AS min_state,
    maxState(value) AS max_state,
    argMaxState(value, timestamp) AS last_state,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(value) AS quantiles_state,
    anyLast(bucket_bounds) AS bucket_bounds,
    sumForEachState(bucket_counts) AS bucket_counts_state
FROM samples
GROUP BY fingerprint, metric, minute;

-- How a sum's points add up: 'cumulative' or 'delta' (RATE treats them differently), and whether it only grows.
ALTER TABLE series ADD COLUMN IF NOT EXISTS temporality LowCardinality(String) DEFAULT '';
ALTER TABLE series ADD COLUMN IF NOT EXISTS monotonic UInt8 DEFAULT 0;
