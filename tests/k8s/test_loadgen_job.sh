#!/usr/bin/env bash
# loadgen's Indexed Job without a cluster: deploy/k8s/check/job_local.mjs runs the rendered Job's
# exact commands as N local processes (JOB_COMPLETION_INDEX=0..N-1, env and $(VAR) as Kubernetes
# builds them) against a real taskd, with the merge Job beside them. The merged result must have
# the start time every shard was given, the scheduled, completed and per-route counts of one
# process running the whole rate, histograms that are exactly the shards' added bucket by bucket,
# and one verdict: 0 when the thresholds hold, 99 when one fails. TAP; usage: BUILD_DIR.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:-build}
tap_skip_without kubectl node
tap_workdir k8s-job
work=$tap_work
export PATH="$root/$build/bin:$PATH"
if ! out=$(scripts/npm_deps.sh deploy/k8s/check 2>&1); then tap_bail "npm packages: $out"; fi
kubectl kustomize deploy/k8s/overlays/kind-loadtest >"$work/job.yaml" || tap_bail "the overlay does not render"
shards=$(node -e 'const y=require(process.argv[1]);for(const d of y.parseAllDocuments(require("fs").readFileSync(process.argv[2],"utf8"))){const o=d.toJS();if(o.kind==="Job"&&o.spec.completionMode==="Indexed")console.log(o.spec.completions)}' \
    "$root/deploy/k8s/check/node_modules/yaml" "$work/job.yaml")
tap_start_taskd "$work/taskd" || tap_bail "taskd did not start: $(cat "$work/taskd/taskd.out")"

# The run: RATE in all for DURATION after WARMUP, create and list only: the operations a run
# sends then depend on the schedule alone (a read, update or delete finding no id of its thread
# becomes a create, and the threads' ids differ between one process and N).
rate=400 duration=3s warmup=1s mix=create=30,list=70
mkdir -p "$work/results"
params=(--set "loadgen-config.TARGET=$TASKD_URL" --set "loadgen-config.RESULTS=$work/results"
    --set "loadgen-config.RATE=$rate" --set "loadgen-config.DURATION=$duration"
    --set "loadgen-config.WARMUP=$warmup" --set "loadgen-config.THREADS=1"
    --set "loadgen-config.MIX=$mix"
    # one network namespace here, one per pod there: each shard takes a free port
    --set "loadgen-config.METRICS_LISTEN=127.0.0.1:0" --set "loadgen-config.METRICS_LINGER=0s")
timeout 120 node deploy/k8s/check/job_local.mjs "$work/job.yaml" "${params[@]}" \
    --set "loadgen-config.THRESHOLDS=error_ratio<1% not_started<1000000" --start-in 2 >"$work/job.out" 2>&1
rc=$?
start=$(sed -n 's/^start-at: //p' "$work/job.out")
merged="$work/results/$start.merged.json"
if [ $rc -eq 0 ] && [ -s "$merged" ] && grep -q "^verdict: exit 0" "$work/job.out"; then
    tap_ok "the $shards shards and the merge step, run as the Jobs' commands, end with one verdict (exit 0)"
else
    tap_not_ok "the $shards shards and the merge step, run as the Jobs' commands, end with one verdict (exit $rc)" "$(tail -30 "$work/job.out")"
    tap_bail "no merged result to check"
fi

# One process running the whole rate, the same parameters.
loadgen --rate "$rate" --duration "$duration" --warmup "$warmup" --threads 2 --mix "$mix" \
    --quiet --json "$work/single.json" "$TASKD_URL" >"$work/single.out" 2>&1 ||
    tap_bail "the single run failed: $(cat "$work/single.out")"

# compare.mjs-like checks in one node run: prints "ok|not ok<TAB>description<TAB>detail" lines.
node - "$merged" "$work/single.json" "$start" "$work/results" "$shards" >"$work/compare.out" 2>&1 <<'EOF'
const fs = require("fs");
const [merged, single, start, dir, n] = process.argv.slice(2);
const m = JSON.parse(fs.readFileSync(merged, "utf8"));
const s = JSON.parse(fs.readFileSync(single, "utf8"));
const parts = [...Array(Number(n)).keys()].map((i) => JSON.parse(fs.readFileSync(`${dir}/${start}.shard-${i}.json`, "utf8")));
const say = (ok, what, detail = "") => console.log(`${ok ? "ok" : "not ok"}\t${what}\t${detail}`);
// The measured period starts at start-at plus the warm-up (1 s), in every shard.
const want = BigInt(Date.parse(start)) * 1000000n + 1000000000n;
say(parts.every((p) => BigInt(p.start_unix_ns) === want), "every shard ran the schedule from the start time it was given", parts.map((p) => p.started_at).join(" "));
const t = (r) => r.totals;
const accounted = (r) => t(r).completed + t(r).cancelled + t(r).not_started === t(r).scheduled;
say(t(m).scheduled === t(s).scheduled, "scheduled: the merged shards equal one process at the whole rate", `${t(m).scheduled} vs ${t(s).scheduled}`);
say(accounted(m) && accounted(s), "every scheduled request is accounted for (completed, cancelled or not started)", JSON.stringify([t(m), t(s)].map(({ scheduled, completed, cancelled, not_started }) => ({ scheduled, completed, cancelled, not_started }))));
const everyoneRan = t(m).completed === t(m).scheduled && t(s).completed === t(s).scheduled;
const routes = (r) => Object.fromEntries(r.routes.map((x) => [x.name, x.requests]));
const skip = everyoneRan ? "" : ` # SKIP the machine fell behind (${t(m).scheduled - t(m).completed} and ${t(s).scheduled - t(s).completed} not completed): the counts are equal only when every scheduled request ran`;
say(everyoneRan ? t(m).completed === t(s).completed : true, `completed: the merged shards equal one process${skip}`, `${t(m).completed} vs ${t(s).completed}`);
say(everyoneRan ? JSON.stringify(routes(m)) === JSON.stringify(routes(s)) : true, `per-route counts: the merged shards equal one process${skip}`, `${JSON.stringify(routes(m))} vs ${JSON.stringify(routes(s))}`);
say(m.runs === parts.length && Math.abs(m.rate.target - s.rate.target) < 1e-9, "the merged target rate is the whole rate, from all the shards", `${m.rate.target} vs ${s.rate.target}, runs ${m.runs}`);
// Histograms: the merged one of every route and class is the shards' added bucket by bucket.
const problems = [];
let compared = 0;
for (const route of m.routes)
  for (const cls of route.by_class)
    for (const view of ["corrected", "service", "lag"]) {
      const want = { count: 0, min_ns: Infinity, max_ns: 0, sum_ns: 0n, buckets: new Map() };
      for (const p of parts) {
        const h = p.routes.find((r) => r.name === route.name)?.by_class.find((c) => c.class === cls.class)?.histograms[view];
        if (!h || !h.count) continue;
        want.count += h.count;
        want.min_ns = Math.min(want.min_ns, h.min_ns);
        want.max_ns = Math.max(want.max_ns, h.max_ns);
        want.sum_ns += BigInt(h.sum_ns);
        for (const [i, c] of h.buckets) want.buckets.set(i, (want.buckets.get(i) ?? 0) + c);
      }
      const got = cls.histograms[view];
      const buckets = JSON.stringify([...want.buckets].sort((a, b) => a[0] - b[0]));
      compared++;
      if (got.count !== want.count || got.min_ns !== want.min_ns || got.max_ns !== want.max_ns || BigInt(got.sum_ns) !== want.sum_ns || JSON.stringify(got.buckets) !== buckets)
        problems.push(`${route.name} ${cls.class} ${view}`);
    }
say(problems.length === 0 && compared > 0, `the merged histograms (${compared}: route x class x view) are the shards' added bucket by bucket, with exact min, max and sum`, problems.join(", "));
const p99 = m.latency.corrected.p99;
say(p99 >= Math.min(...parts.map((p) => p.latency.corrected.p99)) && p99 <= Math.max(...parts.map((p) => p.latency.corrected.max)), "the merged p99 comes from the merged histogram (between the shards' p99s and maxima)", `${p99}`);
EOF
while IFS=$'\t' read -r verdict what detail; do
    case "$verdict" in
    ok) tap_ok "$what"; [[ $what == *"# SKIP"* ]] && echo "#   $detail" ;;
    "not ok") tap_not_ok "$what" "$detail" ;;
    *) tap_not_ok "comparing the merged and single results" "$(cat "$work/compare.out")" ;;
    esac
done <"$work/compare.out"

# The verdict: the merge step's exact command, with a threshold the run cannot meet.
timeout 60 node deploy/k8s/check/job_local.mjs "$work/job.yaml" "${params[@]}" --merge-only \
    --set "loadgen-config.THRESHOLDS=error_ratio<1% p99<1ns" --set "loadgen-start.start-at=$start" \
    >"$work/fail.out" 2>&1
rc=$?
if [ $rc -eq 99 ] && grep -q "threshold failed: p99<1ns" "$work/fail.out"; then
    tap_ok "a threshold the merged result misses fails the merge step with exit 99, naming it"
else
    tap_not_ok "a threshold the merged result misses fails the merge step with exit 99 (exit $rc)" "$(tail -20 "$work/fail.out")"
fi

# A shard whose result never came: the merge step waits for it, saying which.
rm "$work/results/$start.shard-1.json"
timeout 60 node deploy/k8s/check/job_local.mjs "$work/job.yaml" "${params[@]}" --merge-only --timeout 2 \
    --set "loadgen-start.start-at=$start" >"$work/missing.out" 2>&1
if grep -q "waiting for the results of shards 1 of $shards" "$work/missing.out" &&
    ! grep -q "^verdict: exit 0" "$work/missing.out"; then
    tap_ok "with a shard's result missing, the merge step waits and names the shard (no verdict)"
else
    tap_not_ok "with a shard's result missing, the merge step waits and names the shard" "$(tail -20 "$work/missing.out")"
fi

# A shard started after the agreed time would be off the schedule: it refuses to run.
out=$(JOB_COMPLETION_INDEX=0 loadgen --shards 2 --start-at 2020-01-01T00:00:00Z --rate 10 \
    --duration 1s --quiet "$TASKD_URL" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "the start time 2020-01-01T00:00:00.000Z has passed" <<<"$out"; then
    tap_ok "a shard started after the start time refuses to run, saying so (exit 1)"
else
    tap_not_ok "a shard started after the start time refuses to run, saying so (exit $rc)" "$out"
fi

tap_finish
