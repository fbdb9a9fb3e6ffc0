// judge: a scenario's expectations (what must and must not happen to its alerts) against an
// outcome — predicted (predict.mjs: ranges over many phases, "in k of N runs") or measured (the
// same shape with one run). Both are judged by the same code, so "the prediction says the rule
// does what the scenario expects" (validator alerts check) and "the live run did it" mean the
// same thing.
//
// judgeExpectations({ outcome, scenario, compress, marks, end }) -> [Verdict]
//   outcome: { runs, alerts: [{ key, labels, episodes: [{pending, firing, resolved}],
//              notified: [{receiver, groupKey, firing, resolved}], muted, mutedBy }] }
//   marks: { name: [ms, ...] } on the outcome's clock; end: when the run (or prediction) ended.
//   Verdict: { expectation | null, alert (labels), verdict: 'ok'|'fail'|'not_checked', message }
// Everything an expectation does not name must not be notified: that is a verdict too.

import { formatDuration, seconds } from './duration.mjs';
import { expectationApplies, expectationSelects } from './scenario.mjs';

export function labelText(labels) {
  const { alertname, ...rest } = labels;
  const keys = Object.keys(rest).filter((k) => !['job', 'instance', 'severity', 'service', 'slo'].includes(k)).sort();
  return `${alertname}${keys.length ? `{${keys.map((k) => `${k}="${rest[k]}"`).join(', ')}}` : ''}`;
}

// "3.2 s" or "3.0–5.1 s" after the mark.
export function spanText(range, base) {
  if (!range) return 'never';
  const a = seconds(range.min - base);
  const b = seconds(range.max - base);
  return a === b ? `${a} s` : `${a}–${b} s`;
}

function firstMark(marks, name, fallback) {
  if (name && marks[name]?.length) return marks[name][0];
  return fallback;
}

const all = (range, runs) => !!range && range.runs === runs;

// The episode an expectation is about: the first one at or after its mark that fires in every
// run; `maybe` when one only fires in some runs (the scenario sits on an edge: not decidable).
function pickEpisode(alert, after, runs) {
  const scope = alert.episodes.filter((e) => e.slot.t >= after || (e.pending && e.pending.min >= after));
  const decisive = scope.find((e) => all(e.firing, runs));
  const maybe = scope.find((e) => e.firing);
  return { decisive, maybe, before: alert.episodes.filter((e) => !scope.includes(e)) };
}

const notifiedIn = (ep) => ep.notified.filter((n) => n.firing);

export function judgeExpectations({ outcome, scenario, compress, marks, end, degenerate = null }) {
  const runs = outcome.runs;
  const verdicts = [];
  const claimed = new Set();
  const firstMarkName = Object.entries(marks).filter(([k]) => k !== 'start' && !k.includes('.')).sort((a, b) => a[1][0] - b[1][0])[0]?.[0];
  const defaultAfter = firstMarkName ? marks[firstMarkName][0] : 0;
  const expectations = scenario.expect.filter((e) => expectationApplies(e, compress));
  for (const e of expectations) {
    const selected = outcome.alerts.filter((a) => expectationSelects(e, a.labels));
    for (const a of selected) claimed.add(a.key);
    const name = labelText({ alertname: e.alert, ...e.labels });
    const after = firstMark(marks, e.after, defaultAfter);
    const afterName = e.after || firstMarkName || 'the start';
    const out = (verdict, message, alert = null) => verdicts.push({ expectation: e, alert: alert?.labels || { alertname: e.alert, ...e.labels }, verdict, message });
    const must = e.kind === 'notify' ? `notify ${e.receiver}` : 'fire';
    if (e.kind === 'never') {
      let any = false;
      for (const a of selected) {
        for (const ep of a.episodes.filter((x) => x.firing)) {
          any = true;
          const decided = all(ep.firing, runs);
          out(decided ? 'fail' : 'not_checked', `${labelText(a.labels)} fires ${spanText(ep.firing, after)} after ${afterName}${decided ? '' : ` in ${ep.firing.runs} of ${runs} runs`}, and the scenario says it must not`, a);
        }
      }
      if (!any) out('ok', `${name} never fires${selected.length ? ' (it is only pending)' : ''}`);
      continue;
    }
    if (!selected.length) {
      out('fail', `${name} never fires (not even pending), and the scenario says it must ${must}`);
      continue;
    }
    for (const a of selected) {
      const label = labelText(a.labels);
      const { decisive: ep, maybe, before } = pickEpisode(a, after, runs);
      for (const b of before) {
        const early = notifiedIn(b).find((n) => all(n.firing, runs));
        if (early && e.kind === 'notify') out('fail', `${label} already notifies ${early.receiver} ${spanText(early.firing, after)} after ${afterName}, before it`, a);
      }
      if (!ep) {
        if (maybe) out('not_checked', `${label} fires after ${afterName} in only ${maybe.firing.runs} of ${runs} runs (the scenario sits on an edge of a window or \`for\`): it cannot be judged`, a);
        else out('fail', `${label} is ${a.episodes.some((x) => x.pending) ? 'only pending' : 'never pending'} after ${afterName}, and the scenario says it must ${must}`, a);
        continue;
      }
      const notified = notifiedIn(ep);
      if (e.kind === 'notify') {
        const here = notified.find((n) => n.receiver === e.receiver);
        if (!here) {
          const elsewhere = notified.map((n) => n.receiver);
          const why = elsewhere.length ? `it reaches ${elsewhere.join(', ')} instead` : ep.mutedBy.length ? `it is held back by ${ep.mutedBy.join(', ')}` : 'it is never notified';
          out('fail', `${label} fires ${spanText(ep.firing, after)} after ${afterName} but ${why}, and the scenario says it must notify ${e.receiver}`, a);
          continue;
        }
        if (!all(here.firing, runs)) {
          out('not_checked', `${label} reaches ${e.receiver} in only ${here.firing.runs} of ${runs} runs: it cannot be judged`, a);
          continue;
        }
        if (e.within !== null && here.firing.max - after > e.within / compress) {
          out('fail', `${label} notifies ${e.receiver} ${spanText(here.firing, after)} after ${afterName}, later than the ${formatDuration(e.within)} the scenario allows (${seconds(e.within / compress)} s at ${compress}x)`, a);
          continue;
        }
        const resolved = here.resolved ? `, resolved ${spanText(here.resolved, after)}` : ', resolved after the end';
        out('ok', `${label} notifies ${e.receiver} ${spanText(here.firing, after)} after ${afterName}${e.within !== null ? ` (within ${formatDuration(e.within)}: ${seconds(e.within / compress)} s at ${compress}x)` : ''}${resolved}`, a);
      } else if (e.kind === 'silent') {
        if (notified.length) out('fail', `${label} notifies ${notified.map((n) => n.receiver).join(', ')}, and the scenario says it must reach nobody`, a);
        else out('ok', `${label} fires ${spanText(ep.firing, after)} after ${afterName} and reaches nobody`, a);
      } else {
        if (notified.length) out('fail', `${label} notifies ${notified.map((n) => n.receiver).join(', ')}, and the scenario says ${e.inhibitedBy.join(' or ')} must hold it back`, a);
        else if (!ep.mutedBy.some((m) => e.inhibitedBy.includes(m))) out('fail', `${label} fires but is not held back by ${e.inhibitedBy.join(' or ')}${ep.mutedBy.length ? ` (held back by ${ep.mutedBy.join(', ')})` : ''}`, a);
        else out('ok', `${label} fires ${spanText(ep.firing, after)} after ${afterName} and is held back by ${ep.mutedBy.join(', ')}`, a);
      }
    }
  }
  // Nothing else may be notified (unless the compression made its rule degenerate: then what it
  // does here says nothing about the rule).
  for (const a of outcome.alerts) {
    if (claimed.has(a.key)) continue;
    const why = degenerate?.(a.labels);
    for (const ep of a.episodes) {
      const n = notifiedIn(ep)[0];
      if (!n) continue;
      const decided = all(n.firing, runs) && !why;
      verdicts.push({
        expectation: null,
        alert: a.labels,
        verdict: decided ? 'fail' : 'not_checked',
        message: `${labelText(a.labels)} notifies ${n.receiver} ${spanText(n.firing, ep.slot.t)} after ${ep.slot.name}${all(n.firing, runs) ? '' : ` in ${n.firing.runs} of ${runs} runs`}${why ? ` (not judged at ${compress}x: ${why})` : ', and the scenario expects no notification of it'}`,
      });
    }
  }
  return verdicts;
}
