// datasources: which datasource (and so which query language) a panel, a target, a variable or
// an annotation of a Grafana dashboard uses, whatever Grafana version exported it.
//
// A reference may be: absent (the default datasource), a string (a datasource name, "-- Mixed --",
// "${DS_PROMETHEUS}" from "Export for sharing externally", "$datasource"), or an object
// { type, uid } whose uid may itself be a variable or an export input. The answer is
// { type, uid, name, via } or { error } — a sentence for a finding. `type` is null when nothing
// says what the datasource is (a string name that no provisioning, flag or __requires explains):
// the caller reports such targets as not checked, never as passed.

// Grafana's built-in pseudo datasources.
const MIXED = new Set(['-- Mixed --', 'mixed']);
const DASHBOARD = new Set(['-- Dashboard --', 'dashboard']);
const GRAFANA = new Set(['-- Grafana --', 'grafana']);

// The datasources a user's Grafana has: provisioning files, plus --datasource NAME=TYPE flags.
export class DatasourceDirectory {
  // provisioned: [{ uid, type, name, isDefault, jsonData }] (may be empty);
  // declared: { nameOrUid: type } from flags.
  constructor(provisioned = [], declared = {}) {
    this.provisioned = provisioned;
    this.declared = declared;
  }

  find(key) {
    const d = this.provisioned.find((p) => p.uid === key) || this.provisioned.find((p) => p.name === key);
    if (d) return { type: d.type, uid: d.uid, name: d.name, jsonData: d.jsonData || {} };
    if (Object.prototype.hasOwnProperty.call(this.declared, key)) return { type: this.declared[key], uid: key, name: key, jsonData: {} };
    return null;
  }

  default() {
    const d = this.provisioned.find((p) => p.isDefault);
    if (d) return { type: d.type, uid: d.uid, name: d.name, jsonData: d.jsonData || {} };
    if (this.declared.default) return { type: this.declared.default, uid: null, name: 'default', jsonData: {} };
    return null;
  }

  // Whether a uid that matches nothing is an error (provisioning was given) or just unknown.
  get closed() {
    return this.provisioned.length > 0;
  }
}

// What one dashboard knows about its datasources: the directory, its variables (Map name -> raw
// variable), its export inputs (Map name -> { pluginId }) and __requires.
export class DatasourceResolver {
  constructor({ directory, variables, inputs, requires }) {
    this.directory = directory;
    this.variables = variables;
    this.inputs = inputs;
    this.requires = requires || [];
  }

  // The one datasource plugin a dashboard requires, when it requires exactly one.
  soleRequiredType() {
    const types = [...new Set(this.requires.filter((r) => r.type === 'datasource').map((r) => r.id))];
    return types.length === 1 ? types[0] : null;
  }

  fromVariable(name, claimedType) {
    const v = this.variables.get(name);
    if (v) {
      if (v.type !== 'datasource') return { error: `uses $${name} as a datasource, but it is a ${v.type} variable` };
      if (claimedType && v.query && claimedType !== v.query) return { error: `says type "${claimedType}" but $${name} selects ${v.query} datasources` };
      const cur = Array.isArray(v.current?.value) ? v.current.value[0] : v.current?.value;
      const known = cur ? this.directory.find(cur) : null;
      return { type: v.query || claimedType || known?.type || null, uid: known?.uid || cur || null, name: known?.name || cur || null, via: `variable $${name}`, variable: name, jsonData: known?.jsonData || {} };
    }
    const input = this.inputs.get(name);
    if (input) {
      if (claimedType && input.pluginId && claimedType !== input.pluginId) {
        return { error: `says type "${claimedType}" but the export input \${${name}} is a ${input.pluginId} datasource` };
      }
      const known = this.directory.find(input.label || '') || null;
      return { type: input.pluginId || claimedType || null, uid: null, name: input.label || name, via: `export input \${${name}}`, jsonData: known?.jsonData || {} };
    }
    if (/^DS_/.test(name)) return { error: `uses \${${name}}, an export input that the dashboard's __inputs does not declare (export it again with "Export for sharing externally")` };
    return { error: `uses datasource variable $${name}, which the dashboard does not define` };
  }

  fromKey(key, claimedType) {
    const known = this.directory.find(key);
    if (known) {
      if (claimedType && claimedType !== known.type) return { error: `says type "${claimedType}" for "${key}", which is a ${known.type} datasource` };
      return { ...known, via: `datasource "${key}"` };
    }
    if (claimedType) {
      if (this.directory.closed && !this.directory.declared[key]) {
        return { error: `uses datasource uid "${key}", which is not provisioned (provisioned: ${this.directory.provisioned.map((d) => d.uid).join(', ')})`, type: claimedType };
      }
      return { type: claimedType, uid: key, name: key, via: `datasource uid "${key}"`, jsonData: {} };
    }
    const sole = this.soleRequiredType();
    if (sole) return { type: sole, uid: null, name: key, via: `datasource "${key}" (the only datasource type in __requires)`, jsonData: {} };
    return { type: null, uid: null, name: key, via: `datasource "${key}"`, unknown: `datasource "${key}" has no known type: pass --datasource "${key}=prometheus" (or loki), or --provisioning DIR` };
  }

  // ref: the raw `datasource` value; inherited: the resolved datasource of the enclosing panel.
  resolve(ref, inherited = null) {
    if (ref === undefined || ref === null || ref === '') {
      if (inherited) return inherited;
      const d = this.directory.default();
      if (d) return { ...d, via: 'the default datasource' };
      const sole = this.soleRequiredType();
      if (sole) return { type: sole, uid: null, name: 'default', via: 'the default datasource (the only datasource type in __requires)', jsonData: {} };
      return { type: null, uid: null, name: 'default', via: 'the default datasource', unknown: 'uses the default datasource, whose type is unknown: pass --datasource default=prometheus (or loki), or --provisioning DIR' };
    }
    if (typeof ref === 'string') {
      if (MIXED.has(ref)) return { type: 'mixed', via: 'mixed' };
      if (DASHBOARD.has(ref)) return { type: 'dashboard', via: 'the dashboard datasource' };
      if (GRAFANA.has(ref)) return { type: 'grafana', via: 'grafana' };
      const v = /^\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?$/.exec(ref);
      if (v) return this.fromVariable(v[1], null);
      return this.fromKey(ref, null);
    }
    if (typeof ref !== 'object') return { error: `has a datasource of type ${typeof ref}: expected a name or {"type", "uid"}` };
    const uid = ref.uid ?? null;
    if (MIXED.has(uid)) return { type: 'mixed', via: 'mixed' };
    if (DASHBOARD.has(uid)) return { type: 'dashboard', via: 'the dashboard datasource' };
    if (GRAFANA.has(uid) || ref.type === 'grafana') return { type: 'grafana', via: 'grafana' };
    if (uid === null || uid === '') {
      if (ref.type) return { type: ref.type, uid: null, name: null, via: `the default ${ref.type} datasource`, jsonData: this.directory.default()?.jsonData || {} };
      return this.resolve(null, inherited);
    }
    const v = /^\$\{?([a-zA-Z_][a-zA-Z0-9_]*)\}?$/.exec(uid);
    if (v) return this.fromVariable(v[1], ref.type || null);
    return this.fromKey(uid, ref.type || null);
  }
}
