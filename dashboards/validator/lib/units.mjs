// units: Grafana's unit ids (its valueFormats registry) and what each one claims the numbers
// are, so a panel's unit can be compared with what its query returns (dimension.mjs).
//
// A claim: { kind, factor, perSecond, perMinute }. kind is time, bytes, bits, ratio, rate
// (something per second), count (short, none… — a plain number), timestamp, bool, or other
// (currency, temperature, custom…). factor: how much of the base quantity one displayed unit is —
// seconds for time (ms: 0.001), bytes or bits, a ratio (percent: 0.01), events per second
// (rpm: 1/60), unix seconds for dates (Grafana's date units read milliseconds: 0.001).

const claims = new Map();
const add = (ids, claim) => {
  for (const id of ids.split(/\s+/).filter(Boolean)) claims.set(id, claim);
};

add('ns', { kind: 'time', factor: 1e-9 });
add('µs us', { kind: 'time', factor: 1e-6 });
add('ms dtdurationms clockms', { kind: 'time', factor: 0.001 });
add('s dtdurations dthms dtdhms timeticks clocks', { kind: 'time', factor: 1 });
add('m', { kind: 'time', factor: 60 });
add('h', { kind: 'time', factor: 3600 });
add('d', { kind: 'time', factor: 86400 });
// Grafana's "bytes", "kbytes"… are IEC (1024-based), "decbytes", "deckbytes"… SI.
add('bytes decbytes', { kind: 'bytes', factor: 1 });
add('kbytes', { kind: 'bytes', factor: 1024 });
add('deckbytes', { kind: 'bytes', factor: 1e3 });
add('mbytes', { kind: 'bytes', factor: 1024 ** 2 });
add('decmbytes', { kind: 'bytes', factor: 1e6 });
add('gbytes', { kind: 'bytes', factor: 1024 ** 3 });
add('decgbytes', { kind: 'bytes', factor: 1e9 });
add('tbytes', { kind: 'bytes', factor: 1024 ** 4 });
add('dectbytes', { kind: 'bytes', factor: 1e12 });
add('pbytes', { kind: 'bytes', factor: 1024 ** 5 });
add('decpbytes', { kind: 'bytes', factor: 1e15 });
add('bits decbits', { kind: 'bits', factor: 1 });
add('binBps Bps', { kind: 'bytes', factor: 1, perSecond: true });
add('KiBs', { kind: 'bytes', factor: 1024, perSecond: true });
add('KBs', { kind: 'bytes', factor: 1e3, perSecond: true });
add('MiBs', { kind: 'bytes', factor: 1024 ** 2, perSecond: true });
add('MBs', { kind: 'bytes', factor: 1e6, perSecond: true });
add('GiBs', { kind: 'bytes', factor: 1024 ** 3, perSecond: true });
add('GBs', { kind: 'bytes', factor: 1e9, perSecond: true });
add('binbps bps', { kind: 'bits', factor: 1, perSecond: true });
add('Kibits', { kind: 'bits', factor: 1024, perSecond: true });
add('Kbits', { kind: 'bits', factor: 1e3, perSecond: true });
add('Mibits', { kind: 'bits', factor: 1024 ** 2, perSecond: true });
add('Mbits', { kind: 'bits', factor: 1e6, perSecond: true });
add('Gibits', { kind: 'bits', factor: 1024 ** 3, perSecond: true });
add('Gbits', { kind: 'bits', factor: 1e9, perSecond: true });
add('percentunit', { kind: 'ratio', factor: 1 });
add('percent', { kind: 'ratio', factor: 0.01 });
add('pps cps ops reqps rps wps iops eps mps hertz', { kind: 'rate', factor: 1, perSecond: true });
add('opm rpm wpm epm mpm cpm', { kind: 'rate', factor: 1 / 60, perMinute: true });
add('none short sishort locale sci hex hex0x string', { kind: 'count', factor: 1 });
add('dateTimeAsIso dateTimeAsIsoNoDateIfToday dateTimeAsUS dateTimeAsUSNoDateIfToday dateTimeAsLocal dateTimeAsLocalNoDateIfToday dateTimeAsSystem dateTimeFromNow', { kind: 'timestamp', factor: 0.001 });
add('bool bool_yes_no bool_on_off', { kind: 'bool', factor: 1 });
add('dB humidity pixel celsius fahrenheit kelvin volt amp watt kwatt joule lengthm lengthkm velocityms', { kind: 'other', factor: 1 });

// Custom units Grafana accepts: "suffix:/s", "prefix:$", "si:B", "count:req", "currency:EUR"…
const CUSTOM = /^(suffix|prefix|si|count|currency|time|bool):/;

export function isKnownUnit(unit) {
  return claims.has(unit) || CUSTOM.test(unit) || /^currency[A-Z]{3}$/.test(unit);
}

export function unitClaim(unit) {
  if (claims.has(unit)) return claims.get(unit);
  return { kind: 'other', factor: 1, custom: true };
}

// A few unit ids to suggest for a dimension.
export function suggestUnits(dim) {
  if (dim.base === 'seconds') return dim.scale === 1000 ? 'ms' : 's';
  if (dim.base === 'bytes') return dim.perSecond ? 'Bps (or binBps)' : 'bytes';
  if (dim.base === 'ratio') return dim.scale === 100 ? 'percent' : 'percentunit';
  if (dim.base === 'count') return dim.perSecond ? 'reqps, ops or cps' : 'short';
  if (dim.base === 'timestamp') return 'dateTimeAsIso';
  return 'a matching unit';
}
