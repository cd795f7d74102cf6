'use strict'
// winston + winston-loki (Loki push). By default winston-loki sends a
// protobuf PushRequest in a snappy block with no Content-Encoding, and
// stamps each line with Date.now() (replaceTimestamp); with the argument
// --json it sends Loki JSON, with the log's meta as structured metadata.
// Sends N lines, ends the logger, closes the transport (which sends what is
// left) and awaits transport.flush(), which resolves once every batch sent
// was answered (winston itself calls close() when the logger ends, without
// awaiting it).
//
//   node winston-loki.js http://127.0.0.1:9700 RUNID [N] [--json]
//
// Line i: level info/warn/error (lib.level), labels level, app, run and,
// per line, component; meta seq=i and traceId=trace-RUNID-i, which
// winston-loki appends to the line as JSON (and, in JSON mode, also sends as
// structured metadata). Bucket: header X-Logbucket-Bucket
// e2e-winston-RUNID (winston-loki drops a query string from the host).
const { once } = require('node:events')
const winston = require('winston')
const LokiTransport = require('winston-loki')
const { args, message, level, done, fail } = require('./lib')

async function main () {
  const { url, runId, n, flags } = args()
  const json = flags.has('--json')
  const loki = new LokiTransport({
    host: url,
    json,
    labels: { app: json ? 'e2e-winston-json' : 'e2e-winston', run: runId },
    headers: { 'X-Logbucket-Bucket': `e2e-winston-${runId}` },
    interval: 0.2,
    timeout: 10000,
    onConnectionError: (err) => fail(err)
  })
  // winston-loki silently falls back to JSON when its snappy binding does not
  // load: make sure the protobuf path really runs.
  const want = json ? 'application/json' : 'application/x-protobuf'
  if (loki.batcher.contentType !== want) {
    fail(new Error(`winston-loki sends ${loki.batcher.contentType}, want ${want} (snappy binding missing?)`))
  }
  const logger = winston.createLogger({ level: 'info', transports: [loki] })
  for (let i = 0; i < n; i++) {
    logger.log(level(i), message('winston', runId, i), {
      labels: { component: i % 2 ? 'payments' : 'orders' },
      seq: i,
      traceId: `trace-${runId}-${i}`
    })
  }
  // The transport has every line once it finished (winston pipes the logger
  // into it).
  const finished = once(loki, 'finish')
  logger.end()
  await finished
  await loki.close()
  await loki.flush()
  done({ client: 'winston-loki', sent: n, json })
}

main().catch(fail)
