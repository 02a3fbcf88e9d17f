#!/usr/bin/env node
import { runAgent } from './agent';
import { connect } from './connection';
import { runDescribeService } from './describe-service';
import { runDrain } from './drain';
import { runImport } from './import';
import { runLocal } from './local';
import { logSources } from './log-sources';
import { runLogs } from './logs';
import { runOperator } from './operator';
import { runRolloutStatus } from './rollout';
import { runRunTask } from './run-task';
import { runStopTask } from './stop-task';
import { runCli } from './program';

const output = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };
const lines = { out: (line: string) => output.out(`${line}\n`), err: (line: string) => output.err(`${line}\n`) };

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin.setEncoding('utf8')) text += chunk as string;
  return text;
}

runCli(
  process.argv.slice(2),
  {
    local: (flags) => runLocal(flags),
    operator: runOperator,
    agent: runAgent,
    drain: (flags) => runDrain(flags, lines),
    rolloutStatus: (flags) => runRolloutStatus(flags, { ...lines, ...(process.stdout.isTTY && { tty: process.stdout }) }),
    describeService: (flags) => runDescribeService(flags, lines),
    logs: (flags) => {
      const connection = connect(flags);
      return runLogs(flags, { stdout: process.stdout, stderr: process.stderr, err: lines.err }, connection, logSources(connection.config));
    },
    runTask: (flags) => runRunTask(flags, lines),
    stopTask: (flags) => runStopTask(flags, lines),
    importEcs: (flags) => runImport(flags, { out: output.out, err: lines.err, readStdin }),
  },
  output,
).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`berth: ${error.message}\n`);
    process.exit(1);
  },
);
