'use strict'
// The official Elasticsearch client (@elastic/elasticsearch) and its bulk
// helper, client.helpers.bulk(), which sends `create` actions to POST /_bulk
// in several requests (flushBytes), two at a time, retrying items answered
// 429. The client refuses a server without X-Elastic-Product:
// Elasticsearch. Fails unless every document was stored.
//
//   node elasticsearch.js http://127.0.0.1:9700 RUNID [N]
//
// Index E2E-ES.RUNID (bucket e2e-es-RUNID). Document i: @timestamp base+i ms
// (an RFC 3339 string for even i, epoch milliseconds for odd i; base, in
// epoch ms, is printed in the summary), message (lib.message), level,
// seq, service.name=e2e-es, host.name=e2e-host-(i%2), user {name (Korean),
// id}, tags [a, b], trace.id=md5(RUNID-i).
const crypto = require('node:crypto')
const { Client } = require('@elastic/elasticsearch')
const { args, message, level, done, fail } = require('./lib')

async function main () {
  const { url, runId, n } = args()
  const client = new Client({ node: url, requestTimeout: 10000 })
  const index = `E2E-ES.${runId}`
  const baseMs = Date.now() - 60000
  const docs = []
  for (let i = 0; i < n; i++) {
    docs.push({
      '@timestamp': i % 2 === 0 ? new Date(baseMs + i).toISOString() : baseMs + i,
      message: message('es', runId, i),
      level: level(i),
      seq: i,
      service: { name: 'e2e-es' },
      host: { name: `e2e-host-${i % 2}` },
      user: { name: '김철수', id: 1000 + i },
      tags: ['a', 'b'],
      trace: { id: crypto.createHash('md5').update(`${runId}-${i}`).digest('hex') }
    })
  }
  const dropped = []
  const stats = await client.helpers.bulk({
    datasource: docs,
    onDocument: () => ({ create: { _index: index } }),
    onDrop: (d) => dropped.push(`${d.status} ${JSON.stringify(d.error)}`),
    flushBytes: 4000,
    concurrency: 2,
    retries: 3,
    wait: 200
  })
  await client.close()
  if (stats.failed !== 0 || stats.successful !== n || dropped.length > 0) {
    fail(new Error(`bulk: ${JSON.stringify(stats)}; dropped: ${dropped.slice(0, 5).join('; ')}`))
  }
  done({ client: 'elasticsearch', sent: n, base_unix_ms: baseMs, bytes: stats.bytes })
}

main().catch(fail)
