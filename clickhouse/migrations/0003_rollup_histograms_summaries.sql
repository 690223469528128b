-- Summary quantiles as OTLP sends them (levels such as 0.5 and 0.99, and their values), so P50…P99 of a
-- summary answer from what the agent measured; empty for other types.
ALTER TABLE samples ADD COLUMN IF NOT EXISTS quantile_levels Array(Float64) CODEC(ZSTD);
ALTER TABLE samples ADD COLUMN IF NOT EXISTS quantile_values Array(Float64) CODEC(ZSTD);

-- The rollup keeps each minute's last snapshot of a cumulative histogram (its increase between steps gives the
-- buckets counted in a step) and of a summary's quantiles, so whole-minute quantile queries need no raw rows.
ALTER TABLE samples_1m ADD COLUMN IF NOT EXISTS last_counts_state AggregateFunction(argMax, Array(UInt64), DateTime64(3, 'UTC'));
ALTER TABLE samples_1m ADD COLUMN IF NOT EXISTS quantile_levels SimpleAggregateFunction(anyLast, Array(Float64));
ALTER TABLE samples_1m ADD COLUMN IF NOT EXISTS last_quantiles_state AggregateFunction(argMax, Array(Float64), DateTime64(3, 'UTC'));

-- MODIFY QUERY swaps the view's query in one step: no insert goes by without feeding the rollup.
ALTER TABLE samples_1m_mv MODIFY QUERY
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
    sumForEachState(bucket_counts) AS bucket_counts_state,
    argMaxState(bucket_counts, timestamp) AS last_counts_state,
    anyLast(quantile_levels) AS quantile_levels,
    argMaxState(quantile_values, timestamp) AS last_quantiles_state
FROM samples
GROUP BY fingerprint, metric, minute;
