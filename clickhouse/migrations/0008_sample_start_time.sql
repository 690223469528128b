-- A cumulative or delta point's start time (OTLP `start_time_unix_nano`: when its counting began, how an agent
-- tells a reset), in nanoseconds since the epoch; 0 for gauges, summaries without one, and rows stored before.
-- Only a column added: the sorting key, the rollup and block deduplication are as before.
ALTER TABLE samples ADD COLUMN IF NOT EXISTS start_time_unix_nano UInt64 DEFAULT 0 CODEC(DoubleDelta, ZSTD);
