-- The least and greatest value a point stands for, for MIN and MAX: a gauge's or a sum's value; a histogram's `min`
-- and `max` as OTLP sends them; a summary's quantiles 0 and 1. Ingest leaves them out when the point has none, and
-- the default is then the value for gauges and sums and +Inf/-Inf otherwise: the identity of min/max, so a point
-- that does not know its extremes changes no answer, and a step of only such points has none (MIN and MAX over a
-- histogram answered its sum before). Rows stored before read the same defaults.
ALTER TABLE samples ADD COLUMN IF NOT EXISTS min Float64 DEFAULT if(empty(bucket_counts) AND empty(quantile_levels), value, inf) CODEC(Gorilla, ZSTD);
ALTER TABLE samples ADD COLUMN IF NOT EXISTS max Float64 DEFAULT if(empty(bucket_counts) AND empty(quantile_levels), value, -inf) CODEC(Gorilla, ZSTD);

-- The rollup's minute extremes from those columns; minutes rolled up before keep what they hold.
ALTER TABLE samples_1m_mv MODIFY QUERY
SELECT
    fingerprint,
    metric,
    toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute,
    sumState(value) AS sum_state,
    countState() AS count_state,
    minState(min) AS min_state,
    maxState(max) AS max_state,
    argMaxState(value, timestamp) AS last_state,
    quantilesTDigestState(0.5, 0.9, 0.95, 0.99)(value) AS quantiles_state,
    anyLast(bucket_bounds) AS bucket_bounds,
    sumForEachState(bucket_counts) AS bucket_counts_state,
    argMaxState(bucket_counts, timestamp) AS last_counts_state,
    anyLast(quantile_levels) AS quantile_levels,
    argMaxState(quantile_values, timestamp) AS last_quantiles_state
FROM samples
GROUP BY fingerprint, metric, minute;
