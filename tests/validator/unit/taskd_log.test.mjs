// taskd's log as the truth reads it (lib/truth/taskd_log.mjs): which process answered each request
// across restarts — taskd accepts connections a moment before it logs "listening", and a killed
// process logs no "stopped".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTaskdLogs } from '../../../dashboards/validator/lib/truth/taskd_log.mjs';

const line = (s, msg, extra = {}) => JSON.stringify({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(), level: 'info', msg, ...extra });
const request = (s, status = 200) => line(s, 'request', { method: 'GET', route: '/tasks/{id}', path: '/tasks/1', status, duration_ms: 0.1 });

test('a request answered between the start-up lines and "listening" belongs to the new process', () => {
  const text = [
    line(0, 'database available'), line(1, 'listening', { port: 1, db_path: '/d' }), request(2),
    line(3, 'shutting down'), line(4, 'stopped'),
    line(5, 'database available'), request(6), line(7, 'listening', { port: 1, db_path: '/d' }), request(8),
  ].join('\n');
  const { processes, requests } = parseTaskdLogs([{ name: 'taskd.log', text }]);
  assert.equal(processes.length, 2);
  assert.equal(processes[1].start, Date.UTC(2026, 0, 1, 0, 0, 5));
  assert.equal(processes[1].listen, Date.UTC(2026, 0, 1, 0, 0, 7));
  assert.deepEqual(requests.map((r) => r.process.index), [0, 1, 1]);
  assert.equal(processes[0].killed, false);
});

test('the last requests of a killed process stay with it', () => {
  const text = [
    line(0, 'database available'), line(1, 'listening', { port: 1 }), request(2), request(3),
    line(5, 'created a new empty database'), line(6, 'database available'), line(7, 'listening', { port: 1 }), request(8),
  ].join('\n');
  const { processes, requests } = parseTaskdLogs([{ name: 'taskd.log', text }]);
  assert.deepEqual(requests.map((r) => r.process.index), [0, 0, 1]);
  assert.equal(processes[0].killed, true);
  assert.equal(processes[0].end, Date.UTC(2026, 0, 1, 0, 0, 3));
  assert.equal(processes[1].created, true);
});
