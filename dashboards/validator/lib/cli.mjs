// cli: the conventions every validator subcommand follows — options declared once as data (the
// parser and the usage text both come from the declaration), the two error kinds and the exit
// codes: 0 clean, 1 findings, 2 usage or setup error (bad option, a file that cannot be read, a
// Prometheus that does not answer). A setup error is one sentence that says what failed, on what,
// and what to do; it is never turned into a pass.
//
// An option: { name: '--scrape', value: 'FILE|URL', repeat: true, help: '...' }. Without `value`
// it is a switch (true when given). `key` overrides the property name (default: camelCase of the
// name without dashes); `parse(v, name)` converts or throws UsageError; `repeat` collects an array;
// `map` collects NAME=VALUE pairs into an object.

export class UsageError extends Error {}
export class SetupError extends Error {}

const camel = (name) => name.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());

// Parses argv (without the subcommand) against the options. Returns { opts, positional }.
export function parseOptions(argv, options) {
  const byName = new Map(options.map((o) => [o.name, o]));
  const opts = {};
  const positional = [];
  for (const o of options) {
    const key = o.key || camel(o.name);
    if (o.repeat) opts[key] = [];
    else if (o.map) opts[key] = {};
    else if (o.default !== undefined) opts[key] = o.default;
  }
  const args = [...argv];
  while (args.length) {
    let a = args.shift();
    if (a === '--') {
      positional.push(...args.splice(0));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let inline;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const o = byName.get(a);
    if (!o) throw new UsageError(`unknown option ${a}`);
    const key = o.key || camel(o.name);
    if (!o.value) {
      if (inline !== undefined) throw new UsageError(`${a} takes no value`);
      opts[key] = true;
      continue;
    }
    let v = inline;
    if (v === undefined) {
      if (!args.length) throw new UsageError(`${a} needs a value (${o.value})`);
      v = args.shift();
    }
    if (o.map) {
      const m = /^([^=]+)=(.*)$/s.exec(v);
      if (!m) throw new UsageError(`${a} takes ${o.value}, not "${v}"`);
      opts[key][m[1]] = o.parse ? o.parse(m[2], a) : m[2];
    } else if (o.repeat) {
      opts[key].push(o.parse ? o.parse(v, a) : v);
    } else {
      opts[key] = o.parse ? o.parse(v, a) : v;
    }
  }
  return { opts, positional };
}

// The options block of a usage text, aligned.
export function optionsHelp(options) {
  const heads = options.map((o) => `  ${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.min(34, Math.max(...heads.map((h) => h.length)) + 2);
  const lines = [];
  options.forEach((o, i) => {
    const head = heads[i];
    const help = (o.help || '').split('\n');
    if (head.length + 1 > width) {
      lines.push(head);
      for (const h of help) lines.push(`${' '.repeat(width)}${h}`);
    } else {
      lines.push(`${head.padEnd(width)}${help[0]}`);
      for (const h of help.slice(1)) lines.push(`${' '.repeat(width)}${h}`);
    }
  });
  return lines.join('\n');
}

// Value parsers shared by the subcommands.
export function nonNegativeNumber(v, name) {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a non-negative number, not "${v}"`);
  return n;
}

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

// A Prometheus/Grafana duration ("15s", "1m30s", "500ms") in seconds, or null when it is not one.
export function durationSeconds(text) {
  const s = String(text).trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d|w|y))+$/.test(s)) return null;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNIT_SECONDS[m[2]];
  return total;
}

export function durationOption(v, name) {
  const s = durationSeconds(v);
  if (s === null || s <= 0) throw new UsageError(`${name} takes a duration such as 15s or 1m, not "${v}"`);
  return s;
}

// "15s" for 15, "1m30s" for 90: the shortest Prometheus spelling of whole seconds.
export function formatDuration(seconds) {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  let rest = Math.round(seconds);
  let out = '';
  for (const [u, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]]) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`;
      rest %= n;
    }
  }
  return out || '0s';
}
