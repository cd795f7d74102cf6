'use strict'
// pino + pino-loki (Loki push, JSON, structured metadata), as an application
// sets them up: pino.transport() in a worker thread, batching on, a tenant
// header. Sends N lines, then ends the transport, which pushes the last
// batch and waits for the answer before the worker exits.
//
//   node pino-loki.js http://127.0.0.1:9700 RUNID [N]
//
// Line i: level info/warn/error (lib.level), labels app, run, component
// (propsToLabels) plus pino-loki's level and hostname, structured metadata
// traceId=trace-RUNID-i and seq=i (the `meta` key), other fields inside the
// JSON line. Tenant (X-Scope-OrgID) `E2E.Pino-RUNID`.
const { once } = require('node:events')
const pino = require('pino')
const { args, message, level, done, fail } = require('./lib')

async function main () {
  const { url, runId, n } = args()
  const transport = pino.transport({
    target: 'pino-loki',
    options: {
      host: url,
      headers: { 'X-Scope-OrgID': `E2E.Pino-${runId}` },
      labels: { app: 'e2e-pino', run: runId },
      propsToLabels: ['component'],
      batching: { interval: 0.2 },
      timeout: 10000
    }
  })
  const logger = pino({ level: 'info' }, transport)
  for (let i = 0; i < n; i++) {
    logger[level(i)]({
      component: i % 2 ? 'payments' : 'orders',
      seq: i,
      order: { id: 1000 + i, items: ['a', 'b'] },
      meta: { traceId: `trace-${runId}-${i}`, seq: i }
    }, message('pino', runId, i))
  }
  // Ending the transport makes pino-loki push its last batch and await the
  // answer before its worker exits; 'close' comes then. thread-stream
  // unrefs the worker, so without a pending timer Node would leave before
  // that 'close' (the lines are sent all the same, from the worker).
  const keepAlive = setInterval(() => {}, 1000)
  const closed = once(transport, 'close')
  transport.end()
  await closed
  clearInterval(keepAlive)
  done({ client: 'pino-loki', sent: n })
}

main().catch(fail)
