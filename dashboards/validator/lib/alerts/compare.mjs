// compare: a live stack's measurements in the prediction's shape, and the two side by side.
// The measured outcome (one run) is built from the ALERTS episodes, the webhook notifications and
// the held-back alerts, with episodes in the same slots (the marks they follow) as predicted, so
// judge.mjs can judge it like a prediction, and compareOutcomes() can say, per alert and
// episode, whether each measured time fell inside its predicted window (with a tolerance).
//
// API: measuredOutcome({ episodes, posts, suppressed, marks }) -> outcome (runs: 1)
//      compareOutcomes(predicted, measured, { tolerance, end }) -> [Row]
//      Row: { labels, slot, verdict, items: [{ what, predicted, measured, ok }], message }

import { episodeSlot, slotMarks } from './predict.mjs';
import { labelsKey } from './series.mjs';
import { labelText, spanText } from './judge.mjs';

const point = (t) => (t === undefined || t === null ? null : { min: t, max: t, runs: 1 });

export function measuredOutcome({ episodes, posts, suppressed, marks }) {
  const slots = slotMarks(marks);
  const alerts = new Map();
  for (const [key, a] of episodes) {
    const bySlot = new Map();
    for (const e of a.episodes) {
      const slot = episodeSlot(e.pending, slots);
      const cur = bySlot.get(slot.key);
      if (!cur || (cur.e.firing === undefined && e.firing !== undefined)) bySlot.set(slot.key, { slot, e });
    }
    alerts.set(key, {
      key,
      labels: a.labels,
      episodes: [...bySlot.values()].map(({ slot, e }) => ({
        slot: { name: slot.name, t: slot.t },
        runs: 1,
        pending: point(e.pending),
        firing: point(e.firing),
        resolved: point(e.resolved),
        notified: [],
        mutedBy: [],
        muted: null,
        raw: e,
      })),
    });
  }
  // A notification's alert belongs to the episode that fired at its startsAt.
  for (const p of posts) {
    if (!p.body?.alerts) continue;
    for (const na of p.body.alerts) {
      const a = alerts.get(labelsKey(na.labels || {}));
      if (!a) continue;
      const starts = Date.parse(na.startsAt);
      const ep = a.episodes.find((e) => e.firing && Math.abs(e.firing.min - starts) <= 5) ||
        a.episodes.filter((e) => e.firing && e.firing.min <= starts + 5).pop();
      if (!ep) continue;
      let n = ep.notified.find((x) => x.receiver === p.body.receiver);
      if (!n) ep.notified.push((n = { receiver: p.body.receiver, groupKey: p.body.groupKey, firing: null, resolved: null }));
      if (na.status === 'firing' && !n.firing) n.firing = point(p.t);
      if (na.status === 'resolved' && n.firing && !n.resolved) n.resolved = point(p.t);
    }
  }
  for (const s of suppressed) {
    const a = alerts.get(labelsKey(s.labels));
    if (!a) continue;
    const ep = a.episodes.filter((e) => e.firing && e.firing.min <= s.t).pop();
    if (!ep) continue;
    if (!ep.muted) ep.muted = point(s.t);
    for (const by of s.inhibitedBy) if (!ep.mutedBy.includes(by)) ep.mutedBy.push(by);
  }
  return { runs: 1, alerts: [...alerts.values()] };
}

function within(range, t, tol) {
  return t >= range.min - tol && t <= range.max + tol;
}

// Per predicted episode: firing, resolved and each receiver's notifications, measured vs the
// predicted window; episodes measured where none was predicted; `end`: when measuring stopped
// (a predicted time after it cannot be measured).
export function compareOutcomes(predicted, measured, { tolerance, end, runs, degenerate = null, from = -Infinity }) {
  const rows = [];
  // Episodes that began before the stack was judged (its start-up) are left out on both sides.
  const judged = (e) => !e.pending || e.pending.max >= from;
  const mByKey = new Map(measured.alerts.map((a) => [a.key, a]));
  const seen = new Set();
  for (const pa of predicted.alerts) {
    const ma = mByKey.get(pa.key);
    for (const pe of pa.episodes.filter(judged)) {
      const me = ma?.episodes.find((e) => e.slot.name === pe.slot.name) || null;
      if (me && !judged(me)) continue;
      if (me) seen.add(`${pa.key}\u0000${me.slot.name}`);
      const base = pe.slot.t;
      const row = { labels: pa.labels, slot: pe.slot, items: [], verdict: 'ok', predicted: pe, measured: me };
      const add = (what, range, t, decided) => {
        if (!range) return;
        const afterEnd = range.min > end;
        const ok = t === null || t === undefined ? (afterEnd || !decided ? null : false) : within(range, t, tolerance);
        // How far outside its window a measured time fell (0 inside it).
        const outside = t === null || t === undefined ? null : Math.max(0, range.min - t, t - range.max);
        row.items.push({ what, predicted: spanText(range, base), measured: t === null || t === undefined ? (afterEnd ? 'after the run' : 'never') : spanText({ min: t, max: t }, base), ok: decided ? ok : null, outside: decided ? outside : null });
        if (decided && ok === false) row.verdict = 'fail';
      };
      const firesAlways = pe.firing && pe.firing.runs === runs;
      if (!pe.firing) {
        if (me?.firing) {
          row.verdict = 'fail';
          row.items.push({ what: 'firing', predicted: 'never (only pending)', measured: spanText(me.firing, base), ok: false });
        } else {
          row.items.push({ what: 'firing', predicted: 'never (only pending)', measured: me?.pending ? 'never (pending)' : 'never', ok: true });
        }
      } else {
        add('firing', pe.firing, me?.firing?.min, firesAlways);
        add('resolved', pe.resolved && pe.resolved.runs === pe.firing.runs ? pe.resolved : null, me?.resolved?.min, firesAlways);
        for (const pn of pe.notified) {
          const mn = me?.notified.find((n) => n.receiver === pn.receiver);
          const always = firesAlways && pn.firing?.runs === runs;
          add(`notified ${pn.receiver}`, pn.firing, mn?.firing?.min, always);
          if (pn.resolved) add(`resolved at ${pn.receiver}`, pn.resolved.runs === pn.firing?.runs ? pn.resolved : null, mn?.resolved?.min, always && pn.resolved.runs === pn.firing.runs);
        }
        for (const mn of me?.notified || []) {
          if (pe.notified.some((pn) => pn.receiver === mn.receiver)) continue;
          row.verdict = 'fail';
          row.items.push({ what: `notified ${mn.receiver}`, predicted: 'never', measured: spanText(mn.firing, base), ok: false });
        }
        if (!firesAlways) row.verdict = row.verdict === 'fail' ? 'fail' : 'not_checked';
      }
      rows.push(row);
    }
  }
  // Episodes that fired although none was predicted in their slot.
  for (const ma of measured.alerts) {
    for (const me of ma.episodes.filter(judged)) {
      if (seen.has(`${ma.key}\u0000${me.slot.name}`) || !me.firing) continue;
      const pa = predicted.alerts.find((a) => a.key === ma.key);
      const pe = pa?.episodes.find((e) => e.slot.name === me.slot.name);
      if (pe && judged(pe)) continue;
      rows.push({
        labels: ma.labels, slot: me.slot, verdict: 'fail', predicted: null, measured: me,
        items: [{ what: 'firing', predicted: 'never', measured: spanText(me.firing, me.slot.t), ok: false }],
      });
    }
  }
  for (const r of rows) {
    const why = degenerate?.(r.labels);
    if (why && r.verdict !== 'ok') r.verdict = 'not_checked';
    r.message = `${labelText(r.labels)} after ${r.slot.name}: ${r.items.map((i) => `${i.what} ${i.measured === i.predicted ? i.measured : `${i.measured} (predicted ${i.predicted})`}${i.ok === false ? ' ✗' : ''}`).join('; ')}${why && r.verdict === 'not_checked' ? ` (not judged: ${why})` : ''}`;
  }
  return rows;
}
