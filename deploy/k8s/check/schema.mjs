// Validates one Kubernetes object against its schema from a maintained npm package:
// kubernetes-models (the Kubernetes OpenAPI, generated per release) for built-in kinds, and
// @kubernetes-models/prometheus-operator (generated from the operator's API types) for
// ServiceMonitor, PodMonitor, PrometheusRule and the other monitoring.coreos.com kinds.
//
// Those schemas, like the API server's, accept fields they do not define; the API server drops
// them (or, with strict field validation, refuses them), so a typo such as `livenesProbe` would
// pass silently. validateObject() also reports unknown fields: it hands the validator a copy of
// the object in which every object records the property names the schema looks at, and a
// property the schema never looked at, in an object whose properties the schema does list, is
// unknown. Free-form maps (labels, data, annotations) are enumerated by the validator, and
// objects without listed properties (preserve-unknown-fields) are never looked into: neither is
// reported. This is kubeconform's -strict, without a second copy of the schemas.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// apiVersion -> the module exporting one model class per kind.
function moduleFor(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com")
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`;
  return group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
}

const modelCache = new Map();
async function modelFor(apiVersion, kind) {
  const spec = moduleFor(apiVersion);
  if (!modelCache.has(spec)) modelCache.set(spec, await import(spec).catch(() => null));
  const mod = modelCache.get(spec);
  const model = mod && mod[kind];
  return model && model.apiVersion === apiVersion && model.kind === kind ? model : null;
}

export function packageVersions() {
  const v = (name) => require(`${name}/package.json`).version;
  return {
    "kubernetes-models": v("kubernetes-models"),
    "@kubernetes-models/prometheus-operator": v("@kubernetes-models/prometheus-operator"),
  };
}

// A deep copy of `value` whose objects record which of their properties were read.
function tracked(value, path, records) {
  if (Array.isArray(value)) return value.map((v, i) => tracked(v, `${path}/${i}`, records));
  if (value === null || typeof value !== "object") return value;
  const record = { path, keys: Object.keys(value), read: new Set(), enumerated: false };
  records.push(record);
  const copy = {};
  for (const key of record.keys) copy[key] = tracked(value[key], `${path}/${key}`, records);
  const note = (key) => typeof key === "string" && record.read.add(key);
  return new Proxy(copy, {
    get(target, key, receiver) {
      note(key);
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      note(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
    getOwnPropertyDescriptor(target, key) {
      record.enumerated = true;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  });
}

// Returns a list of problems (empty when the object is valid), each one sentence.
export async function validateObject(obj) {
  if (!obj || typeof obj !== "object" || Array.isArray(obj))
    return ["the document is not an object"];
  const { apiVersion, kind } = obj;
  if (typeof apiVersion !== "string" || typeof kind !== "string")
    return ["apiVersion and kind must be strings"];
  const model = await modelFor(apiVersion, kind);
  if (!model)
    return [`no schema for ${apiVersion} ${kind} (not a Kubernetes kind, nor a prometheus-operator one)`];
  const problems = [];
  const records = [];
  try {
    model.prototype.validate.call(tracked(obj, "", records));
  } catch (err) {
    problems.push(...String(err.message).split(/, (?=data)/).map((m) => m.replace(/^data/, "") || m));
  }
  for (const r of records) {
    if (r.enumerated || r.read.size === 0) continue;
    for (const key of r.keys)
      if (!r.read.has(key)) problems.push(`${r.path}/${key} is not a field of ${kind} here (unknown to the schema: a typo?)`);
  }
  return problems;
}
