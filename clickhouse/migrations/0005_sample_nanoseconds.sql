-- Every point keeps its nanosecond time: the nanoseconds past the millisecond of `timestamp` join the sorting key,
-- which is also what ReplacingMergeTree collapses on, so two points of a series less than a millisecond apart are
-- two samples and only an exact duplicate is one. Only metadata changes (a column added in the same ALTER may end
-- the sorting key); rows stored before read 0 there, the precision they were stored with. The statement is safe to
-- run again (IF NOT EXISTS, the same key), so a start interrupted after it resumes cleanly. The rollup is fed as
-- before, each point counted once; block deduplication of retries is untouched (the column is part of the block).
ALTER TABLE samples ADD COLUMN IF NOT EXISTS nanos UInt32 CODEC(T64, ZSTD), MODIFY ORDER BY (fingerprint, timestamp, nanos);
