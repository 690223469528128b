-- An exponential histogram point as OTLP sends it, beside the explicit buckets queries interpolate in (which cannot
-- tell its scale, its zero bucket's threshold apart from a bound, nor its last bucket's upper bound): `exponential`
-- is 1 for such a point; the other columns are its scale, zero bucket and positive and negative buckets. Rows of other
-- types, and those stored before, read 0 and empty. Only columns added: the sorting key and the rollup are as before.
ALTER TABLE samples
    ADD COLUMN IF NOT EXISTS exponential UInt8 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_scale Int32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_zero_threshold Float64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_zero_count UInt64 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_positive_offset Int32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_positive_counts Array(UInt64) DEFAULT [] CODEC(ZSTD),
    ADD COLUMN IF NOT EXISTS exp_negative_offset Int32 DEFAULT 0,
    ADD COLUMN IF NOT EXISTS exp_negative_counts Array(UInt64) DEFAULT [] CODEC(ZSTD);
