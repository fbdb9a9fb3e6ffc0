// duration: durations in milliseconds, the unit every alert module computes in (integers: no
// float drift over days), on top of lib/cli.mjs's reading of Prometheus durations.

import { durationSeconds, formatDuration as formatSeconds } from '../cli.mjs';

// Milliseconds in `text` ("1h30m", "250ms"; a number is seconds); throws a sentence naming `what`
// when it is not a duration.
export function parseDuration(text, what = 'duration') {
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0) return Math.round(text * 1000);
  const s = durationSeconds(String(text ?? ''));
  if (s === null) throw new Error(`${what} '${text}' is not a duration (like 90s, 5m, 1h30m, 250ms)`);
  return Math.round(s * 1000);
}

// "2s", "1h1m", "500ms": how Prometheus prints a duration.
export function formatDuration(ms) {
  if (ms === 0) return '0s';
  if (ms > 0 && ms % 1000) return ms < 1000 ? `${ms}ms` : `${formatSeconds(Math.floor(ms / 1000))}${ms % 1000}ms`;
  return formatSeconds(ms / 1000);
}

// Seconds with at most three decimals, for reports: 4.25, 0.1, 30.
export function seconds(ms) {
  return `${Number((ms / 1000).toFixed(3))}`;
}
