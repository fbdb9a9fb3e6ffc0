#!/usr/bin/env node
// validator: taskbench's dashboard and alert validator — the program behind build/bin/validator.
//
//   validator check ...   static checks of dashboards, rule files, Alertmanager configs
//   validator truth ...   panels evaluated against a known workload
//   validator alerts ...  alert rules against scenarios: predicted, and live on native stacks
//   validator help [COMMAND]
//
// Every subcommand is a module in commands/ exporting { options, usage, run(opts, positional,
// report) }; run() returns the exit code (0 clean, 1 findings, 2 usage/setup error) and records
// everything in the Report it is given, which this file prints as text and, with --json, as the
// JSON envelope (lib/report.mjs). Adding a subcommand is one file and one line in COMMANDS.

import { optionsHelp, parseOptions, SetupError, UsageError } from './lib/cli.mjs';
import { EXIT_SETUP, Report } from './lib/report.mjs';

const COMMANDS = {
  check: { load: () => import('./commands/check.mjs'), summary: 'static checks of dashboards, Prometheus rule files and Alertmanager configs' },
  truth: { load: () => import('./commands/truth.mjs'), summary: 'the panels\' numbers against a known workload (a Prometheus that scraped it)' },
  alerts: { load: () => import('./commands/alerts.mjs'), summary: 'every alert rule against scenarios that must fire it: predicted (check) and live on native stacks (run)' },
  lies: { load: () => import('./commands/lies.mjs'), summary: 'scores the validator against a suite of known-bad edits (caught N of M)' },
};

function mainUsage() {
  const lines = ['usage: validator COMMAND [options] [FILES...]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(8)}${c.summary}`);
  lines.push('', 'validator help COMMAND (or COMMAND --help) shows its options. Exit codes: 0 clean, 1 findings,', '2 usage or setup error. Documentation: docs/validator.md');
  return lines.join('\n');
}

function commandUsage(mod) {
  return `${mod.usage}\n\noptions:\n${optionsHelp([...mod.options, { name: '--help', help: 'this text' }])}`;
}

async function main(argv) {
  let [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help') {
    console.log(mainUsage());
    return name ? 0 : EXIT_SETUP;
  }
  if (name === 'help') {
    if (!rest[0]) {
      console.log(mainUsage());
      return 0;
    }
    name = rest[0];
    rest = ['--help'];
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`validator: unknown command "${name}"\n${mainUsage()}`);
    return EXIT_SETUP;
  }
  const mod = await cmd.load();
  if (rest.includes('-h') || rest.includes('--help')) {
    console.log(commandUsage(mod));
    return 0;
  }
  const report = new Report(name);
  let opts;
  let positional;
  try {
    ({ opts, positional } = parseOptions(rest, mod.options));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`validator ${name}: ${e.message}\n${commandUsage(mod)}`);
    return EXIT_SETUP;
  }
  let code;
  try {
    code = await mod.run(opts, positional, report);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`validator ${name}: ${e.message}\n${commandUsage(mod)}`);
      return EXIT_SETUP;
    }
    report.setupError = e.message;
    console.error(`validator ${name}: ${e instanceof SetupError ? e.message : e.stack || e.message}`);
    if (opts.json && opts.json !== '-') await report.emit(opts.json).catch(() => {});
    return EXIT_SETUP;
  }
  await report.emit(opts.json || null);
  return code;
}

process.exitCode = await main(process.argv.slice(2));
