// What the tests of several workspaces share, and only tests: services never import it (eslint.config.js). What one
// workspace's tests alone use stays beside them as a `*.fixtures.ts`; the servers a test starts of its own are the
// stack's (`privateStack` in @heimdall/stack), which knows how to install and start each of them.
export { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from './service-credentials.js';
export { type SdkEncoding, type SdkLogRecord, pushWithSdk } from './otel-sdk-logs.js';
export { type RecordedTrace, TRACE_FIELDS, comparableTrace, expectedTrace, recordTrace } from './otel-sdk-traces.js';
// Defined beside shared's OTLP receiver, whose tests use it too and cannot import this package (it depends on shared).
export { sendWholeBody } from '../../shared/src/otlp/send-whole-body.fixtures.js';
