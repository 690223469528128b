-- Series are looked up by metric name (metricQuery, metricLabels, alert evaluation). Ordered by metric first, such a
-- lookup reads only that metric's granules instead of every series of every service: the table is rebuilt in that
-- order and swapped in. The runner records each statement, so the swap runs once even if a start is interrupted.
CREATE TABLE IF NOT EXISTS series_by_metric AS series ENGINE = ReplacingMergeTree(last_seen) ORDER BY (metric, service, fingerprint);
INSERT INTO series_by_metric SELECT * FROM series;
EXCHANGE TABLES series AND series_by_metric;
DROP TABLE IF EXISTS series_by_metric;

-- Lookups by service (Service.series) and the list of metric names read this small table of (service, metric)
-- pairs instead: one row per pair once merged, fed by every insert into series.
CREATE TABLE IF NOT EXISTS service_metrics
(
    service LowCardinality(String),
    metric LowCardinality(String),
    type SimpleAggregateFunction(anyLast, String),
    unit SimpleAggregateFunction(anyLast, String),
    description SimpleAggregateFunction(anyLast, String),
    last_seen SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
ORDER BY (service, metric);

CREATE MATERIALIZED VIEW IF NOT EXISTS service_metrics_mv TO service_metrics AS
SELECT service, metric, anyLast(toString(type)) AS type, anyLast(toString(unit)) AS unit, anyLast(description) AS description,
       max(last_seen) AS last_seen
FROM series
GROUP BY service, metric;

INSERT INTO service_metrics
SELECT service, metric, anyLast(toString(type)), anyLast(toString(unit)), anyLast(description), max(last_seen)
FROM series
GROUP BY service, metric;

-- An agent's retry can reach two instances at once. Each request's samples are inserted as one block; ClickHouse
-- keeps the hashes of the last 100,000 blocks and drops a block it has seen, in the raw table and (insert setting
-- deduplicate_blocks_in_dependent_materialized_views) in the rollup it feeds.
ALTER TABLE samples MODIFY SETTING non_replicated_deduplication_window = 100000;
ALTER TABLE samples_1m MODIFY SETTING non_replicated_deduplication_window = 100000;
