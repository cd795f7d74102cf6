'use strict'
// OpenTelemetry JS logs SDK (@opentelemetry/sdk-logs) with its OTLP/HTTP
// exporter: JSON (@opentelemetry/exporter-logs-otlp-http) by default,
// protobuf (@opentelemetry/exporter-logs-otlp-proto) with --proto. A
// BatchLogRecordProcessor exports in batches of 20; provider.shutdown()
// exports the rest and awaits every export. Any failed export (the SDK only
// logs those) makes the script fail.
//
//   node otel.js http://127.0.0.1:9700 RUNID [N] [--proto]
//
// JSON: POST /v1/logs, tenant header X-Scope-OrgID E2E.OTel-RUNID, resource
// service.name=e2e-otel-RUNID. Protobuf: POST /otlp/v1/logs, header
// X-Logbucket-Bucket e2e-otelproto-RUNID, service.name=e2e-otelproto-RUNID.
// Both: resource service.namespace=e2e, deployment.environment=test,
// service.version=1.2.3; scope e2e-scope 0.1.0. Record i (see
// clients_otel_test.go for the exact expectations): timestamp base+i ms+i ns,
// where base (whole seconds) is printed in the summary; a string body, or a
// map body {message, structured, score} for i ending in 7; severity
// INFO/WARN/ERROR (no text for errors: only the number); attributes seq,
// order.id, user.name (Korean), retry, ratio, tags; the span context
// traceId=md5(RUNID-i), spanId=first 16 hex of sha1(RUNID-i), sampled; event
// name e2e.tick for i ending in 0.
const crypto = require('node:crypto')
const { context, trace, TraceFlags } = require('@opentelemetry/api')
const { SeverityNumber } = require('@opentelemetry/api-logs')
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs')
const { resourceFromAttributes } = require('@opentelemetry/resources')
const { args, message, level, done, fail } = require('./lib')

async function main () {
  const { url, runId, n, flags } = args()
  const proto = flags.has('--proto')
  const client = proto ? 'otelproto' : 'otel'
  let exporter
  if (proto) {
    const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto')
    exporter = new OTLPLogExporter({
      url: `${url}/otlp/v1/logs`,
      headers: { 'X-Logbucket-Bucket': `e2e-otelproto-${runId}` },
      timeoutMillis: 10000
    })
  } else {
    const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http')
    exporter = new OTLPLogExporter({
      url: `${url}/v1/logs`,
      headers: { 'X-Scope-OrgID': `E2E.OTel-${runId}` },
      timeoutMillis: 10000
    })
  }
  // Observe (not change) the export results: the SDK swallows failures.
  let exported = 0
  const failures = []
  const origExport = exporter.export.bind(exporter)
  exporter.export = (records, resultCallback) => origExport(records, (result) => {
    if (result.code === 0) exported += records.length
    else failures.push(result.error ? String(result.error.stack || result.error) : `code ${result.code}`)
    resultCallback(result)
  })

  const provider = new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': `e2e-${client}-${runId}`,
      'service.namespace': 'e2e',
      'deployment.environment': 'test',
      'service.version': '1.2.3'
    }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 20, scheduledDelayMillis: 100 })]
  })
  const logger = provider.getLogger('e2e-scope', '0.1.0')

  const baseSec = Math.floor(Date.now() / 1000) - 60
  const severity = { info: SeverityNumber.INFO, warn: SeverityNumber.WARN, error: SeverityNumber.ERROR }
  for (let i = 0; i < n; i++) {
    const id = `${runId}-${i}`
    const spanContext = {
      traceId: crypto.createHash('md5').update(id).digest('hex'),
      spanId: crypto.createHash('sha1').update(id).digest('hex').slice(0, 16),
      traceFlags: TraceFlags.SAMPLED
    }
    const lvl = level(i)
    const rec = {
      timestamp: [baseSec, i * 1000001], // i ms + i ns after base
      severityNumber: severity[lvl],
      body: i % 10 === 7
        ? { message: message(client, runId, i), structured: true, score: 1.5 }
        : message(client, runId, i),
      attributes: {
        seq: i,
        'order.id': 1000 + i,
        'user.name': '김철수',
        retry: i % 2 === 1,
        ratio: i / 4,
        tags: ['a', 'b']
      },
      context: trace.setSpanContext(context.active(), spanContext)
    }
    if (lvl !== 'error') rec.severityText = lvl.toUpperCase()
    if (i % 10 === 0) rec.eventName = 'e2e.tick'
    logger.emit(rec)
  }
  await provider.shutdown()
  if (failures.length > 0 || exported !== n) {
    fail(new Error(`exported ${exported} of ${n} records; failed exports: ${failures.join('; ')}`))
  }
  done({ client: proto ? 'otel-proto' : 'otel-json', sent: n, base_unix_sec: baseSec })
}

main().catch(fail)
