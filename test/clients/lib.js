'use strict'
// Shared by the client scripts of test/clients: the command line and the
// lines every script sends. test/e2e/clients_helpers_test.go computes the
// same lines (clientsMessage) to check what arrived; keep the two in step.

// args parses `node SCRIPT.js URL RUNID [N] [--FLAG...]`: the logbucket
// base URL (http://127.0.0.1:PORT), a run id ([a-z0-9]+, unique per test
// run), the number of lines to send (default 50) and the script's flags.
function args () {
  const argv = process.argv.slice(2)
  const flags = new Set(argv.filter((a) => a.startsWith('--')))
  const [url, runId, n] = argv.filter((a) => !a.startsWith('--'))
  if (!url || !/^https?:\/\/[^/]+$/.test(url.replace(/\/$/, '')) || !/^[a-z0-9]+$/.test(runId || '')) {
    console.error(`usage: node ${require('path').basename(process.argv[1])} http://HOST:PORT RUNID [N] [--FLAG...]`)
    process.exit(2)
  }
  const count = n === undefined ? 50 : Number(n)
  if (!Number.isInteger(count) || count < 1) {
    console.error(`N must be a positive integer, got ${n}`)
    process.exit(2)
  }
  return { url: url.replace(/\/$/, ''), runId, n: count, flags }
}

// message is the text of line i: Latin words with the run id, or, for every
// i ending in 3, a Korean sentence.
function message (client, runId, i) {
  if (i % 10 === 3) return `결제 완료: 주문 ${i}번 (${client} ${runId})`
  return `${client} ${runId} order ${i} placed`
}

// level is the severity of line i: mostly info, some warn and error.
function level (i) {
  if (i % 10 === 9) return 'error'
  if (i % 10 === 5) return 'warn'
  return 'info'
}

// done prints the one JSON line the Go test reads from stdout, then leaves
// with status 0 (exporters may keep idle sockets open).
function done (summary) {
  process.stdout.write(JSON.stringify(summary) + '\n', () => process.exit(0))
}

// fail reports an error and leaves with status 1.
function fail (err) {
  console.error(err && err.stack ? err.stack : String(err))
  process.exit(1)
}

module.exports = { args, message, level, done, fail }
