#!/usr/bin/env python3
"""Time compression for the native stack: rewrites a Prometheus rule file, prometheus.yml or
alertmanager.yml so that every duration in it is divided by a factor, and nothing else changes.

It is a text transformation, line by line, so comments and layout survive and `diff` shows
exactly what changed. What it rewrites (and only this):
  - the values of the keys for, keep_firing_for, interval (rule groups), group_wait,
    group_interval, repeat_interval and resolve_timeout;
  - the values of scrape_interval, scrape_timeout and evaluation_interval, floored at
    --min-interval (faster scraping than that only loads the machine);
  - PromQL durations anywhere: range selectors [5m], subqueries [1h:1m] and offset 1h.
Then each --replace OLD=NEW is applied as a literal string replacement (addresses, URLs).
Numbers that are times without a unit (predict_linear's 24 * 3600) and durations written in
prose are not touched. With --factor 1 durations are left exactly as written.

Usage: compress.py --factor F [--min-interval 1s] [--replace OLD=NEW]... IN [OUT]
       compress.py --factor F [--min D] [--seconds] --duration D [D...]   (prints each, compressed)
"""
import argparse
import math
import re
import sys

UNITS_MS = {"y": 365 * 86400000, "w": 7 * 86400000, "d": 86400000, "h": 3600000,
            "m": 60000, "s": 1000, "ms": 1}
# Prometheus/Alertmanager duration syntax (model.ParseDuration): units largest first, each once.
DURATION = r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m(?!s))?(?:\d+s)?(?:\d+ms)?"
DURATION_FULL = re.compile(r"^(?=\d)" + DURATION + r"$")

KEYS = ("for", "keep_firing_for", "interval", "group_wait", "group_interval",
        "repeat_interval", "resolve_timeout")
INTERVAL_KEYS = ("scrape_interval", "scrape_timeout", "evaluation_interval")
KEY_LINE = re.compile(r"^(?P<head>\s*(?:-\s+)?(?P<key>[a-z_]+)\s*:\s*)(?P<q>['\"]?)"
                      r"(?P<dur>\d[0-9a-z]*)(?P=q)(?P<tail>\s*(?:#.*)?)$")
RANGE = re.compile(r"\[(?P<range>(?=\d)" + DURATION + r")(?P<step>:(?:(?=\d)" + DURATION +
                   r")?)?\]")
OFFSET = re.compile(r"\boffset(?P<sp>\s+)(?P<sign>-?)(?P<dur>(?=\d)" + DURATION + r")\b")


def parse_ms(text):
    """Milliseconds in a Prometheus duration such as 1h30m or 250ms; ValueError if malformed."""
    if not DURATION_FULL.match(text):
        raise ValueError(f"'{text}' is not a Prometheus duration (like 90s, 5m, 1h30m)")
    total = 0
    for number, unit in re.findall(r"(\d+)(ms|[ywdhms])", text):
        total += int(number) * UNITS_MS[unit]
    return total


def format_ms(ms):
    """The shortest exact spelling: 2h24m, 10s, 1s500ms is written 1500ms."""
    if ms == 0:
        return "0s"
    if ms % 1000:
        return f"{ms}ms"
    out, s = "", ms // 1000
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size:
            out += f"{s // size}{unit}"
            s %= size
    return out


class Compressor:
    def __init__(self, factor, min_interval_ms):
        self.factor = factor
        self.min_interval_ms = min_interval_ms

    def duration(self, text, floor_ms=0):
        if self.factor == 1 and floor_ms == 0:
            return text
        ms = parse_ms(text)
        new = max(round(ms / self.factor), floor_ms, 1 if ms else 0)
        if self.factor == 1 and new == ms:
            return text
        return format_ms(new)

    def line(self, line):
        m = KEY_LINE.match(line)
        if m and m.group("key") in KEYS + INTERVAL_KEYS:
            floor = self.min_interval_ms if m.group("key") in INTERVAL_KEYS else 0
            dur = self.duration(m.group("dur"), floor)
            return m.group("head") + m.group("q") + dur + m.group("q") + m.group("tail")
        if self.factor == 1:
            return line
        line = RANGE.sub(self._range, line)
        return OFFSET.sub(lambda o: "offset" + o.group("sp") + o.group("sign") +
                          self.duration(o.group("dur")), line)

    def _range(self, m):
        step = m.group("step") or ""
        if len(step) > 1:
            step = ":" + self.duration(step[1:])
        return "[" + self.duration(m.group("range")) + step + "]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--factor", type=float, required=True,
                    help="divide every duration by this (1 = unchanged)")
    ap.add_argument("--min-interval", default="1s",
                    help="floor for scrape_interval, scrape_timeout, evaluation_interval")
    ap.add_argument("--replace", action="append", default=[], metavar="OLD=NEW",
                    help="literal replacement applied after the compression (repeatable)")
    ap.add_argument("--duration", nargs="+", help="print these durations compressed, one a line, and exit")
    ap.add_argument("--min", default="0s", help="floor for --duration")
    ap.add_argument("--seconds", action="store_true",
                    help="print --duration as a number of seconds")
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    args = ap.parse_args()
    try:
        if not math.isfinite(args.factor) or args.factor <= 0:
            raise ValueError(f"--factor {args.factor} must be a number above 0")
        comp = Compressor(args.factor, parse_ms(args.min_interval))
        if args.duration is not None:
            for d in args.duration:
                out = comp.duration(d, parse_ms(args.min))
                print(f"{parse_ms(out) / 1000:g}" if args.seconds else out)
            return 0
        if not args.input:
            raise ValueError("no input file given")
        pairs = []
        for r in args.replace:
            old, sep, new = r.partition("=")
            if not sep or not old:
                raise ValueError(f"--replace '{r}' is not OLD=NEW")
            pairs.append((old, new))
        with open(args.input, encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        out = "\n".join(comp.line(line) for line in lines)
        for old, new in pairs:
            if old not in out:
                raise ValueError(f"--replace: '{old}' does not occur in {args.input}")
            out = out.replace(old, new)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(out)
        else:
            sys.stdout.write(out)
    except (OSError, ValueError) as e:
        print(f"compress.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
