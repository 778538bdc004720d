// SPDX-License-Identifier: GPL-3.0-or-later
// docs/api/openapi.yaml, checked by a validator nobody here wrote (npm's
// @apidevtools/swagger-parser): code generators and API tools refuse a file
// that fails it. Every documented GET route without parameters is also
// asked of a real server, which must know it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startServer } from './support.mjs';

const FILE = join(process.cwd(), 'docs', 'api', 'openapi.yaml');
let server;

before(async () => { server = await startServer(['--rtc', 'off']); });
after(async () => { if (server) await server.stop(); });

test('the OpenAPI description validates', async () => {
  const api = await SwaggerParser.validate(FILE);
  const paths = Object.keys(api.paths);
  console.log(`openapi.yaml: valid OpenAPI ${api.openapi}, ${paths.length} paths`);
  for (const p of ['/api/sessions', '/v1/audio/transcriptions', '/v1/audio/speech', '/translate', '/languages']) {
    assert.ok(paths.includes(p), `${p} is documented`);
  }
});

test('every documented plain GET route answers on a real server', async () => {
  const api = await SwaggerParser.dereference(FILE);
  for (const [path, item] of Object.entries(api.paths)) {
    if (!item.get || path.includes('{') || (item.get.parameters || []).some((p) => p.required)) continue;
    const res = await fetch(`${server.url}${path}`);
    assert.ok(res.status < 400, `GET ${path}: ${res.status}`);
    await res.arrayBuffer();
  }
});
