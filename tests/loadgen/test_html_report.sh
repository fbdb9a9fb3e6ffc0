#!/usr/bin/env bash
# Draws loadgen's HTML report in headless Chromium and checks what a reader would get: the page
# renders (body[data-rendered=ok]) with every chart drawn, the screenshot is not blank, nothing
# is logged to the console, nothing is fetched from the network, hostile text in a result stays
# text, the histogram decoding in report.js agrees with common/loghist.c on p99, tooltips and
# the chart kit chaos will use (shaded windows, markers, steps) work, broken data shows an error
# box. Pages come from the fixture (via `test_html_report render`) and from a real loadgen run.
# Usage: tests/loadgen/test_html_report.sh BUILD_DIR (from the repository root). Prints TAP.
set -u
# shellcheck source=tests/support/tap.sh
. "$(dirname "$0")/../support/tap.sh"
build=${1:?usage: tests/loadgen/test_html_report.sh BUILD_DIR}
tap_skip_under_sanitizer "the page does not change in a sanitizer build (html_report.c itself runs under ASan+UBSan in tests/unit/common/test_html_report)"
render="$build/tests/unit/common/test_html_report"
loadgen="$build/bin/loadgen"
TASKD_BIN=${TASKD_BIN:-$build/bin/taskd}
fixture=tests/loadgen/fixtures/result.json

tap_skip_without chromium
if [ ! -x "$render" ]; then
    tap_not_ok "$render exists (make BUILD=$build tests)"
    exit 1
fi

tap_workdir html
tmp=$tap_work

# One headless browser run; the profile stays in the temporary directory.
chrome() {
    timeout 60 chromium --headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$tmp/profile" --virtual-time-budget=5000 "$@"
}

# dump PAGE NAME: the rendered DOM to $tmp/NAME.dom and the console to $tmp/NAME.log.
dump() {
    chrome --enable-logging=stderr --v=0 --window-size=1280,1000 --dump-dom "file://$1" \
        >"$tmp/$2.dom" 2>"$tmp/$2.log"
}

cat >"$tmp/check.py" <<'PY'
"""Checks on what Chromium produced: python3 check.py COMMAND ARGS (exit 0 = pass)."""
import html.parser, json, os, re, struct, sys, time, zlib


def fail(msg):
    print(msg)
    sys.exit(1)


class Dom(html.parser.HTMLParser):
    """Counts charts, what each draws, script elements, and collects the page's text."""
    def __init__(self):
        super().__init__()
        self.body, self.scripts, self.charts, self.fig, self.urls, self.text = {}, 0, {}, None, [], []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href", "xlink:href", "action", "poster"):
            if k in a:
                self.urls.append(a[k])
        if tag == "body":
            self.body = a
        elif tag == "script":
            self.scripts += 1
        elif tag == "figure" and "data-chart" in a:
            self.fig = a["data-chart"]
            self.charts[self.fig] = {"svg": 0, "lines": 0, "bars": 0, "empty": 0}
        elif self.fig:
            c = self.charts[self.fig]
            if tag == "svg":
                c["svg"] += 1
            elif tag == "path" and "line" in a.get("class", "") and len(re.findall(r"[ML]", a.get("d", ""))) >= 2:
                c["lines"] += 1
            elif tag == "rect" and "bar" in a.get("class", "").split():
                c["bars"] += 1
            elif tag == "div" and a.get("class") == "empty":
                c["empty"] += 1

    def handle_endtag(self, tag):
        if tag == "figure":
            self.fig = None

    def handle_data(self, data):
        self.text.append(data)


def parse(path):
    d = Dom()
    d.feed(open(path, encoding="utf-8").read())
    return d


def cmd_rendered(path, want):
    d = parse(path)
    got = d.body.get("data-rendered")
    if got != want:
        fail("body data-rendered=%r, expected %r; page text: %s" % (got, want, " ".join(d.text)[:600]))


def cmd_charts(path, names):
    """Every named chart is there with one <svg> that draws at least one line or bar."""
    d = parse(path)
    want = names.split(",")
    if sorted(d.charts) != sorted(want):
        fail("charts %s, expected %s" % (sorted(d.charts), sorted(want)))
    for name, c in d.charts.items():
        if c["svg"] != 1 or c["lines"] + c["bars"] == 0:
            fail("chart %s: %d svg, %d drawn lines, %d bars" % (name, c["svg"], c["lines"], c["bars"]))


def cmd_console(path):
    """Chromium's log carries every console message, CSP violation and uncaught exception."""
    lines = [l for l in open(path, errors="replace") if "CONSOLE" in l or "Uncaught" in l]
    if lines:
        fail("console output:\n" + "".join(lines[:20]))


def cmd_no_external(path):
    d = parse(path)
    bad = [u for u in d.urls if not (u.startswith("data:") or u.startswith("#"))]
    if bad:
        fail("the page links out: %s" % bad[:5])


def cmd_error_box(path, needle):
    d = parse(path)
    text = " ".join(d.text)
    if "This report could not be drawn" not in text or needle not in text:
        fail("no error box saying %r; page text: %s" % (needle, text[:600]))


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat = 8, b""
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + size]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + size
    if depth != 8 or ctype not in (2, 6) or interlace:
        fail("unexpected PNG format: depth %d, colour type %d, interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                line[x] = (line[x] + (((line[x - bpp] if x >= bpp else 0) + prev[x]) >> 1)) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def cmd_png(path, width, height):
    """Not blank: the charts put thousands of clearly coloured pixels on the page."""
    w, h, bpp, rows = read_png(path)
    if (w, h) != (int(width), int(height)):
        fail("screenshot is %dx%d, expected %sx%s" % (w, h, width, height))
    colours, vivid = set(), 0
    for row in rows:
        for x in range(0, len(row), bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            if max(r, g, b) - min(r, g, b) > 80:
                vivid += 1
    if len(colours) < 200 or vivid < 15000:
        fail("screenshot looks blank: %d colours, %d vivid pixels" % (len(colours), vivid))
    print("%d colours, %d vivid pixels" % (len(colours), vivid))


def cmd_hostile(src, dst, port):
    """The fixture with markup and URLs (to a sentinel server) in every text a result carries."""
    d = json.load(open(src))
    base = "http://127.0.0.1:%s" % port
    d["target"] = base + "/</script><script>document.body.dataset.pwned='target'</script>"
    d["routes"][0]["name"] = '<img src="%s/leak-img" onerror="document.body.dataset.pwned=1">' % base
    d["routes"][1]["route"] = "<!--<script>"
    d["tool"]["version"] = "<style>@import url(%s/leak-css);</style>" % base
    d["thresholds"][0]["expr"] = "<svg onload=\"document.body.dataset.pwned='svg'\">"
    json.dump(d, open(dst, "w"))


def cmd_stayed_text(path, port):
    d = parse(path)
    text = " ".join(d.text)
    if "data-pwned" in open(path, encoding="utf-8").read():
        fail("injected script ran")
    if d.scripts != 2:
        fail("%d script elements, expected 2 (the data and report.js)" % d.scripts)
    for needle in ("</script><script>document.body.dataset.pwned='target'</script>", "<!--<script>",
                   '<img src="http://127.0.0.1:%s/leak-img"' % port):
        if needle not in text:
            fail("%r is not shown as text" % needle)


def cmd_minimal(src, dst):
    """A closed-model result with no histograms, no series and no thresholds."""
    d = json.load(open(src))
    d.update(model="closed", series=[], thresholds=[])
    d["rate"] = {"target": None, "achieved": 420.5, "achieved_ratio": None}
    for r in d["routes"]:
        for c in r["by_class"]:
            del c["histograms"]
    json.dump(d, open(dst, "w"))


def cmd_serve(port_file, log_file):
    """A sentinel HTTP server: any request the page makes lands in log_file."""
    import http.server

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(log_file, "a") as f:
                f.write(self.path + "\n")
            self.send_response(404)
            self.end_headers()

        def log_message(self, *a):
            pass

    s = http.server.HTTPServer(("127.0.0.1", 0), H)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(s.server_port))
    os.rename(port_file + ".tmp", port_file)
    s.serve_forever()


class Cdp:
    """Chromium driven over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-separated JSON)."""
    def __init__(self, profile):
        r1, w1 = os.pipe()
        r2, w2 = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            a, b = os.dup(r1), os.dup(w2)
            os.dup2(a, 3)
            os.dup2(b, 4)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.execvp("chromium", ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                   "--no-first-run", "--user-data-dir=" + profile,
                                   "--remote-debugging-pipe", "--window-size=1280,1000", "about:blank"])
        os.close(r1)
        os.close(w2)
        self.w, self.r, self.buf, self.next, self.events, self.sid = w1, r2, b"", 0, [], None
        self.deadline = time.time() + 60

    def send(self, method, params=None, session=True):
        self.next += 1
        msg = {"id": self.next, "method": method, "params": params or {}}
        if session and self.sid:
            msg["sessionId"] = self.sid
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.read()
            if m.get("id") == self.next:
                if "error" in m:
                    fail("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def read(self):
        while b"\0" not in self.buf:
            if time.time() > self.deadline:
                fail("chromium did not answer within 60 s")
            chunk = os.read(self.r, 1 << 16)
            if not chunk:
                fail("chromium closed the debugging pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.sid = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(domain + ".enable")
        self.send("Page.navigate", {"url": url})
        for _ in range(300):
            state = self.eval("document.readyState === 'complete' && document.body.dataset.rendered")
            if state:
                return state
            time.sleep(0.1)
        fail("the page did not finish rendering")

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
        if "exceptionDetails" in r:
            fail("evaluating %s: %s" % (expr[:80], r["exceptionDetails"].get("exception", {}).get("description")))
        return r["result"].get("value")

    def close(self):
        """Asks the browser to quit; kills it when it does not answer within 10 s."""
        self.deadline = time.time() + 10
        try:
            self.send("Browser.close", session=False)
        except SystemExit:
            os.kill(self.pid, 9)
        finally:
            os.waitpid(self.pid, 0)


KIT_DEMO = """(() => {
  const R = window.TaskbenchReport, main = document.getElementById('report');
  const fig = R.lineChart({ id: 'kit', title: 'Readiness', x: { kind: 'time', min: 0, max: 60 },
    y: { min: 0, max: 1, ticks: [0, 1], format: (v) => (v ? 'ready' : 'not ready') },
    bands: [{ from: 20, to: 38, label: 'fault: db-deleted', color: '#dc2626' }],
    markers: [{ x: 20, label: 'injected' }, { x: 23.5, label: 'detected' }, { x: 41, label: 'recovered' }],
    series: [{ name: '/readyz', color: '#15803d', step: true, points: [[0, 1], [23.5, 0], [41, 1], [60, 1]] }] });
  main.appendChild(fig);
  R.drawAll();
  const svg = fig.querySelector('svg'), band = svg.querySelector('rect.band');
  return JSON.stringify({ bands: svg.querySelectorAll('rect.band').length, bandWidth: +band.getAttribute('width'),
    bandTitle: band.textContent, markers: svg.querySelectorAll('line.marker').length,
    labels: Array.from(svg.querySelectorAll('text.marker-label, text.band-label')).map((t) => t.textContent).sort(),
    path: svg.querySelector('path.line').getAttribute('d') });
})()"""


def cmd_cdp(page, result_json, profile, mode, prefix):
    """Checks on the live page, one result line each: "ok|not ok<TAB>name<TAB>detail"."""
    data = json.load(open(result_json))
    url = "file://" + os.path.abspath(page)

    def report(name, passed, detail=""):
        print("%s\t%s: %s\t%s" % ("ok" if passed else "not ok", prefix, name, "" if passed else detail))

    b = Cdp(profile)
    try:
        state = b.open(url)
        if state != "ok":
            report("the page renders under the DevTools protocol", False, "rendered=%r" % state)
            return
        p99 = b.eval("document.querySelector('[data-chart=distribution]').dataset.p99Seconds")
        want = data["latency"]["corrected"]["p99"]
        report("p99 decoded from the histograms in the page equals the result's p99",
               p99 is not None and abs(float(p99) - want) <= 1.5e-9,
               "report.js decodes %s s, the result says %s s" % (p99, want))
        if mode == "full":
            interact(b, report)
        requests = [e["params"]["request"]["url"] for e in b.events if e.get("method") == "Network.requestWillBeSent"]
        report("the only request is the page itself", requests == [url], "requests: %s" % requests)
        logged = [e for e in b.events
                  if e.get("method") in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")]
        report("no console message, exception or CSP report", not logged, json.dumps(logged)[:800])
    finally:
        b.close()


def interact(b, report):
    """What a reader does: hover the latency chart, hide a line, switch to a log scale; and the
    chart kit chaos uses: a shaded fault window, markers and a step line."""
    rect = json.loads(b.eval("document.querySelector('[data-chart=latency]').scrollIntoView(), "
                             "JSON.stringify(document.querySelector('[data-chart=latency] svg rect[fill=transparent]')"
                             ".getBoundingClientRect())"))
    b.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": rect["x"] + rect["width"] * 0.8,
                                        "y": rect["y"] + rect["height"] / 2})
    tip = json.loads(b.eval("JSON.stringify((t => ({hidden: t.hidden, head: (t.querySelector('.tt-head') || {}).textContent, "
                            "rows: Array.from(t.querySelectorAll('.tt-row')).map(r => r.textContent)}))"
                            "(document.querySelector('[data-chart=latency] .tooltip')))"))
    names = "max|p99|p90|p50|service p99|lag p99"
    report("hovering the latency chart shows the six values of that second",
           not tip["hidden"] and (tip["head"] or "").startswith("second ") and len(tip["rows"]) == 6 and
           all(re.match(r"^(%s)[\d,.]+ ms$" % names, r) for r in tip["rows"]), "tooltip: %s" % tip)

    count = "document.querySelectorAll('[data-chart=latency] path.line').length"
    before = b.eval(count)
    b.eval("Array.from(document.querySelectorAll('[data-chart=latency] .legend span'))"
           ".find(s => s.textContent === 'p99').click()")
    after = b.eval(count)
    report("clicking a legend entry hides its line", (before, after) == (6, 5),
           "%s lines before, %s after (expected 6, 5)" % (before, after))

    b.eval("document.querySelector('[data-chart=latency] input[type=checkbox]').click()")
    ticks = b.eval("Array.from(document.querySelectorAll('[data-chart=latency] .axis text[text-anchor=end]'))"
                   ".map(t => t.textContent)")
    report("the log scale checkbox puts the axis on powers of ten",
           bool(ticks) and all(re.match(r"^(0\.0*)?[125]0*k?$", t.replace(",", "")) for t in ticks),
           "ticks: %s" % ticks)

    kit = json.loads(b.eval(KIT_DEMO))
    labels = ["detected", "fault: db-deleted", "injected", "recovered"]
    report("chart kit: a shaded window and labelled markers",
           kit["bands"] == 1 and kit["markers"] == 3 and kit["labels"] == labels and kit["bandWidth"] > 0 and
           "fault: db-deleted: 20s" in kit["bandTitle"], "kit: %s" % kit)
    xs = [float(p.split(",")[0]) for p in re.split("[ML]", kit["path"]) if p]
    report("chart kit: a step line goes across, then down or up",
           len(xs) == 7 and xs[1] == xs[2] and xs[3] == xs[4], "path: %s" % kit["path"])


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])
PY
py() { python3 "$tmp/check.py" "$@"; }
# live PAGE RESULT_JSON MODE PREFIX: the DevTools-protocol checks, one TAP line each.
live() {
    local out status name detail extra
    out=$(timeout 120 python3 "$tmp/check.py" cdp "$1" "$2" "$tmp/profile" "$3" "$4" 2>&1)
    if ! grep -q "$(printf '^ok\t\|^not ok\t')" <<<"$out"; then
        tap_not_ok "$4: the page can be driven over the DevTools protocol" "$out"
        return
    fi
    extra=""
    while IFS=$'\t' read -r status name detail; do
        case "$status" in
        ok) tap_ok "$name" ;;
        "not ok") tap_not_ok "$name" "$detail" ;;
        *) extra+="$status $name $detail"$'\n' ;;
        esac
    done <<<"$out"
    # the driver stopped early (an exception, a timeout): its message fails one more test
    if [ -n "${extra//[[:space:]]/}" ]; then
        tap_not_ok "$4: the DevTools driver ran to the end" "$extra"
    fi
}
charts=rate,errors,latency,inflight,connections,distribution,histogram

# 1. The fixture: a 30-second run with 503s, a stall, a missed target rate.
page="$tmp/fixture.html"
tap_check "fixture: test_html_report renders the page" "$render" render loadgen "loadgen report" "$fixture" "$page"
dump "$page" fixture
tap_check "fixture: the page renders (data-rendered=ok)" py rendered "$tmp/fixture.dom" ok
tap_check "fixture: all seven charts are drawn" py charts "$tmp/fixture.dom" "$charts"
tap_check "fixture: nothing is written to the console" py console "$tmp/fixture.log"
tap_check "fixture: no element links outside the page" py no-external "$tmp/fixture.dom"
chrome --window-size=1280,2400 --screenshot="$tmp/fixture.png" "file://$page" >/dev/null 2>&1
tap_check "fixture: the screenshot is not blank" py png "$tmp/fixture.png" 1280 2400
live "$page" "$fixture" full fixture

# 2. Hostile text in every field: it must show as text and fetch nothing.
python3 "$tmp/check.py" serve "$tmp/sentinel.port" "$tmp/sentinel.log" &
tap_pids+=("$!")
for _ in $(seq 100); do [ -s "$tmp/sentinel.port" ] && break; sleep 0.05; done
sport=$(cat "$tmp/sentinel.port" 2>/dev/null)
py hostile "$fixture" "$tmp/hostile.json" "${sport:-9}"
page="$tmp/hostile.html"
"$render" render loadgen "</title><script>document.body.dataset.pwned='title'</script>" \
    "$tmp/hostile.json" "$page"
dump "$page" hostile
tap_check "hostile data: the page still renders" py rendered "$tmp/hostile.dom" ok
tap_check "hostile data: markup in the result stays text, no script runs" py stayed-text "$tmp/hostile.dom" "$sport"
tap_check "hostile data: nothing is written to the console" py console "$tmp/hostile.log"
if [ -n "$sport" ] && [ ! -s "$tmp/sentinel.log" ]; then
    tap_ok "hostile data: the sentinel server received no request"
else
    tap_not_ok "hostile data: the sentinel server received no request" "$(cat "$tmp/sentinel.log" 2>/dev/null)"
fi

# 3. Sparse and broken results.
py minimal "$fixture" "$tmp/minimal.json"
"$render" render loadgen "closed" "$tmp/minimal.json" "$tmp/minimal.html"
dump "$tmp/minimal.html" minimal
tap_check "closed model without histograms or series: the page renders" py rendered "$tmp/minimal.dom" ok
tap_check "closed model without histograms or series: nothing is written to the console" py console "$tmp/minimal.log"
echo '{}' >"$tmp/empty.json"
"$render" render loadgen "empty" "$tmp/empty.json" "$tmp/empty.html"
dump "$tmp/empty.html" empty
tap_check "an empty result object renders" py rendered "$tmp/empty.dom" ok
echo '{"schema":"taskbench.loadgen.result","series":[' >"$tmp/broken.json"
"$render" render loadgen "broken" "$tmp/broken.json" "$tmp/broken.html"
dump "$tmp/broken.html" broken
tap_check "invalid JSON: data-rendered=error" py rendered "$tmp/broken.dom" error
tap_check "invalid JSON: an error box says so" py error-box "$tmp/broken.dom" "not valid JSON"
"$render" render no-such-kind "unknown" "$fixture" "$tmp/kind.html"
dump "$tmp/kind.html" kind
tap_check "unknown report kind: an error box names it" py error-box "$tmp/kind.dom" 'no renderer for report kind "no-such-kind"'

# 4. A real loadgen run against a real taskd.
tap_start_taskd "$tmp/taskd"
port=$TASKD_PORT
page="$tmp/real.html"
if [ -n "$port" ] && timeout 60 "$loadgen" --quiet --rate 200 --duration 3s --html "$page" \
    --json "$tmp/real.json" --threshold 'p99<5s' "http://127.0.0.1:$port" >"$tmp/loadgen.out" 2>&1; then
    tap_ok "loadgen --html writes a report of a 3-second run against taskd"
    dump "$page" real
    tap_check "loadgen: the page renders (data-rendered=ok)" py rendered "$tmp/real.dom" ok
    tap_check "loadgen: all seven charts are drawn" py charts "$tmp/real.dom" "$charts"
    tap_check "loadgen: nothing is written to the console" py console "$tmp/real.log"
    tap_check "loadgen: no element links outside the page" py no-external "$tmp/real.dom"
    tap_check "loadgen: the header names the protocol the answers came over" \
        grep -q 'protocol <b>http/1.1</b>' "$tmp/real.dom"
    live "$page" "$tmp/real.json" basic loadgen
else
    tap_not_ok "loadgen --html writes a report of a 3-second run against taskd (port ${port:-none})" \
        "$(cat "$tmp/loadgen.out" "$tmp/taskd/taskd.log" 2>/dev/null | tail -20)"
fi

tap_finish
