/** The aggregations of metricQuery (the schema's `Aggregation` enum), which the query and the store both speak. */
export const AGGREGATIONS = ['SUM', 'AVG', 'MIN', 'MAX', 'COUNT', 'P50', 'P90', 'P95', 'P99', 'RATE', 'LAST'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];
