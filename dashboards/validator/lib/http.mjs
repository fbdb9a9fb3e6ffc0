// http: the one small HTTP client the validator needs (GET and form POST with a deadline).
//
// node:http rather than fetch, so the same code runs quietly on Debian 12's Node 18 (whose fetch
// still prints an experimental warning) and on newer releases.

import http from 'node:http';
import https from 'node:https';

function request(url, { method = 'GET', body = null, headers = {}, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.request(u, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${u.origin} within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
}

export function httpGet(url, timeoutMs) {
  return request(url, { timeoutMs });
}

// POSTs application/x-www-form-urlencoded parameters (Prometheus's API takes long queries so).
export function httpPostForm(url, params, timeoutMs) {
  const body = new URLSearchParams(params).toString();
  return request(url, {
    method: 'POST',
    body,
    timeoutMs,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
  });
}
