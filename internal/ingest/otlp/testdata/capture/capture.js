// Captures what the OpenTelemetry JS log exporters (0.223.1) send to a
// loopback OTLP/HTTP endpoint. Usage: node capture.js OUTDIR
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const api = require('@opentelemetry/api');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const httpExp = require('@opentelemetry/exporter-logs-otlp-http');
const protoExp = require('@opentelemetry/exporter-logs-otlp-proto');

const outDir = process.argv[2];
const captured = [];

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    captured.push({ method: req.method, url: req.url, headers: req.headers, body });
    const ct = req.headers['content-type'] || '';
    if (ct.startsWith('application/json')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    }
  });
});

function emitAll(logger) {
  // The two records of shared/ecosystem.md C.3.
  logger.emit({
    timestamp: 1795303611541, observedTimestamp: 1795303611541,
    severityNumber: 17, severityText: 'ERROR', body: 'payment failed for order 17',
    attributes: { 'order.id': 17, 'http.status_code': 402, retry: false, tags: ['a', 'b'] },
  });
  logger.emit({
    timestamp: 1795303611542, observedTimestamp: 1795303611542,
    severityNumber: 9, severityText: 'INFO', body: { structured: true, n: 1.5 },
  });
  // A third record inside a span: hex trace and span ids, flags, an event
  // name, no severity text, nested and bytes attributes.
  const ctx = api.trace.setSpanContext(api.context.active(), {
    traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174',
    traceFlags: 1, isRemote: false,
  });
  logger.emit({
    context: ctx, eventName: 'checkout.retry',
    timestamp: 1795303611543, observedTimestamp: 1795303611544,
    severityNumber: 13, body: '결제 재시도 (2s)',
    attributes: { http: { method: 'POST', route: '/pay' }, ratio: 0.25, raw: new Uint8Array([0, 1, 254, 255]) },
  });
}

async function run(name, Exporter, port) {
  const exporter = new Exporter({ url: `http://127.0.0.1:${port}/v1/logs` });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout-svc', 'deployment.environment': 'dev' }),
    processors: [new BatchLogRecordProcessor({ exporter })],
  });
  emitAll(provider.getLogger('my-lib', '1.2.3'));
  await provider.forceFlush();
  await provider.shutdown();
}

server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  await run('json', httpExp.OTLPLogExporter, port);
  await run('proto', protoExp.OTLPLogExporter, port);
  server.close();
  for (const c of captured) {
    const ct = c.headers['content-type'];
    const ext = ct.startsWith('application/json') ? 'json' : 'pb';
    const base = path.join(outDir, `js-exporter-0.223.1.${ext}`);
    fs.writeFileSync(base, c.body);
    const hdr = Object.entries(c.headers)
      .filter(([k]) => k !== 'host')
      .map(([k, v]) => `${k}: ${v}`).join('\n');
    fs.writeFileSync(base + '.headers', `${c.method} ${c.url}\n${hdr}\n`);
    console.log(ext, c.body.length, 'bytes', ct);
  }
});
