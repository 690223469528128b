export { ClickHouseStore, type ClickHouseTarget, type ReadLimits, createClickHouseClient } from './client.js';
export {
  type AggregationRequest,
  MetricsStore,
  type RawSample,
  type SampleRecord,
  type ClickHousePaths,
  type SampleSelection,
  type SelectedSeries,
  type SeriesRecord,
  type SeriesSummary,
  type StoredScope,
} from './metrics-store.js';
export { MIGRATIONS_DIR, clickhouseMigrationTarget, migrate } from './migrations.js';
