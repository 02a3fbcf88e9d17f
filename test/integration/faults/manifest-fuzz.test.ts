// Fault injection with bad input: 1,000 generated manifests (manifest-mutations.ts: one mutation each of a
// valid Cluster, TaskDefinition or Service, drawn by fast-check from a fixed seed) applied through the
// real kube-apiserver while the built `berth operator` runs a sentinel service beside them.
//
// Every manifest is applied with strict field validation — 980 through the project's KubeStore (six at a
// time), 20 (every 50th) through the real `kubectl apply`, to prove the message a user sees — and must be
// either
//   - refused (400/422) with a message naming the mutated field: the field itself
//     (`spec.containerDefinitions[0].cpu`) or a field holding it below the top level (a rule across
//     siblings blames one of them: minSize 2 above maxSize 1 names `spec.nodeGroups[0].scaling.maxSize`; a
//     `dependsOn` naming no container is refused by the rule on `spec.containerDefinitions`); or
//   - accepted and then reconciled: within 90 s the operator wrote its status for the object's generation
//     (`status.observedGeneration`, which every Cluster, TaskDefinition and Service reconcile writes, with
//     conditions explaining what it could not do) or recorded an Event about it — never silence.
// The same manifest is created in the embedded store (`berth local`'s MemoryStore with the API's
// validators), which must agree on accept / refuse and, when it refuses, name the field as well.
//
// Meanwhile the sentinel (1 simulated instance of 4096 CPU / 8192 MiB, a Service of 4 tasks of 256 / 512 at
// 50 / 200 %) keeps running: a raw Task watch (task-ledger.ts) shows its 4 tasks never stopped nor
// replaced (the same 4 uids RUNNING from the first steady state to the end); the operator never exits
// and never logs an unhandled rejection; and at the end it still acts: a scale of the sentinel to 6
// converges (6 RUNNING, the first 4 among them).
//
// Accepted manifests are kept small on purpose: Services at desiredCount 0 (or 1, on a Cluster without
// instances), Clusters of at most one simulated instance. Bounded by the API server: the 1,000 applies took
// 30-35 s, the reconciles of the 370 accepted 29-40 s, the suite 1m52-1m59 on a busy 2-core machine.
// Reproduce a case with its seed and index: the failure message prints both.
import fc from 'fast-check';
import { resourceTypeFor, services as serviceType, validatorFor, type Service } from '../../../src/api';
import { events as eventType } from '../../../src/store/builtin-types';
import { MemoryStore } from '../../../src/store/memory/memory-store';
import { isStoreError, type KubeObject, type ResourceType } from '../../../src/store/object-store';
import { kubectl, kubectlOk } from '../../env/env';
import { waitFor, type CliProcess } from '../process/cli-process';
import { describeService, simulatedRolloutManifests, startFaultEnv, steadyOn, type FaultEnv } from './fault-env';
import { mutatedManifest, type FuzzKind, type MutatedManifest } from './manifest-mutations';
import { TaskLedger } from './task-ledger';

const seed = 20261203;
const count = 1000;
const kubectlEvery = 50;
const concurrency = 6;
const reconcileTimeoutMs = 90_000;
const sentinel = { instances: 1, desiredCount: 4, scaledTo: 6, limits: { minimumHealthyPercent: 50, maximumPercent: 200 } };
const targets = { cluster: 'fuzz', taskDefinition: 'fuzz-web' };

/** What the mutated manifests may refer to: a Cluster without instances and a TaskDefinition. */
const targetManifests = `
apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: ${targets.cluster}
spec: {}
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${targets.taskDefinition}
spec:
  containerDefinitions:
    - name: web
      image: berth-test/simulated:latest
      cpu: 256
      memory: 512
`;

interface Outcome {
  index: number;
  fuzz: MutatedManifest;
  via: 'KubeStore' | 'kubectl';
  accepted: boolean;
  /** The refusal as the API server (or kubectl) gave it. */
  message: string;
  embeddedAccepted: boolean;
  embeddedMessage: string;
}

let env: FaultEnv;
let ledger: TaskLedger;
let operator: CliProcess;
let sentinelUids: string[];
const outcomes: Outcome[] = [];
const embedded = new MemoryStore({ validatorFor });

beforeAll(async () => {
  env = await startFaultEnv('fuzz');
  ledger = new TaskLedger(env.namespace);
  await ledger.start();
  const manifests = simulatedRolloutManifests({ instances: sentinel.instances, desiredCount: sentinel.desiredCount, limits: sentinel.limits });
  await kubectlOk(['apply', '-n', env.namespace, '-f', '-'], `${manifests}\n---\n${targetManifests}`);
  operator = env.startOperator();
  await waitFor(
    async () => steadyOn(await env.service('web'), 'web:1', sentinel.desiredCount),
    'the sentinel service to be steady on web:1',
    180_000,
    async () => `${describeService(await env.service('web'))}\n${operator.tail(15)}`,
  );
  sentinelUids = sentinelTasks().map((t) => t.uid);
  expect(sentinelUids).toHaveLength(sentinel.desiredCount);
}, 240_000);

afterAll(async () => {
  ledger?.stop();
  await env?.teardown();
  const refused = outcomes.filter((o) => !o.accepted).length;
  console.log(`manifest-fuzz, seed ${seed}: ${outcomes.length} manifests, ${refused} refused, ${outcomes.length - refused} accepted`);
}, 120_000);

/** The sentinel's tasks (its Service is `web`; every fuzz object's name starts with `f`), from the ledger. */
function sentinelTasks() {
  return [...ledger.history.values()].filter((h) => h.name.startsWith('web-'));
}

/** A message for a failure line: long runs of one character (the huge strings) cut short. */
function short(text: string): string {
  return text.replace(/(.)\1{20,}/g, '$1$1$1…').slice(0, 400);
}

function reproduce(o: Pick<Outcome, 'index' | 'fuzz' | 'via'>): string {
  return `case ${o.index} (seed ${seed}, via ${o.via}): ${o.fuzz.kind} ${o.fuzz.manifest.metadata.name?.slice(0, 40)}: ${o.fuzz.description}`;
}

/** The manifests, one per index, each drawn from its own seed so any one can be drawn again alone. */
function generate(): MutatedManifest[] {
  return Array.from({ length: count }, (_, index) => fc.sample(mutatedManifest(targets, `f${index}`), { seed: seed + index, numRuns: 1 })[0]);
}

/**
 * Whether `text` names `path` or a field holding it below the top level (`spec.nodeGroups[0].scaling`
 * for `spec.nodeGroups[0].scaling.minSize`, never bare `spec`), as a whole path: preceded by the start, a
 * blank, `"`, `(` or `.` (Go's decoding errors say `ObjectMeta.metadata.labels`), followed by `.`, `[`,
 * `:`, `"`, `,`, a blank or the end.
 */
function namesField(text: string, path: string): boolean {
  // Go's JSON decoding names metadata's fields after its struct: `ObjectMeta.labels` is metadata.labels.
  text = text.replace(/\bObjectMeta\./g, 'metadata.');
  const segments = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  const candidates = segments
    .map((_, i) =>
      segments
        .slice(0, i + 1)
        .join('.')
        .replace(/\.\[/g, '['),
    )
    .filter((c, i) => i >= 1 || c === path);
  return candidates.some((candidate) => new RegExp(`(^|[\\s"(.])${escape(candidate)}($|[.[:"\\s,])`).test(text));
}

/** The refusal names the mutated field, or a field whose rules check it. */
function names(text: string, fuzz: MutatedManifest): boolean {
  return [fuzz.path, ...fuzz.referrers].some((path) => namesField(text, path));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function typeOf(kind: FuzzKind): ResourceType {
  return resourceTypeFor('berth.dev/v1alpha1', kind)!;
}

async function applyOne(index: number, fuzz: MutatedManifest): Promise<Outcome> {
  const manifest = { ...fuzz.manifest, metadata: { ...fuzz.manifest.metadata, namespace: env.namespace } };
  let embeddedAccepted = true;
  let embeddedMessage = '';
  try {
    await embedded.create(typeOf(fuzz.kind), structuredClone(manifest));
  } catch (error) {
    if (!isStoreError(error)) throw error;
    embeddedAccepted = false;
    embeddedMessage = [error.message, ...error.causes].join('\n');
  }
  if (index % kubectlEvery === 0) {
    const result = await kubectl(['apply', '-n', env.namespace, '-f', '-'], JSON.stringify(manifest));
    return { index, fuzz, via: 'kubectl', accepted: result.code === 0, message: result.stderr, embeddedAccepted, embeddedMessage };
  }
  try {
    await env.store.create(typeOf(fuzz.kind), manifest);
    return { index, fuzz, via: 'KubeStore', accepted: true, message: '', embeddedAccepted, embeddedMessage };
  } catch (error) {
    if (!isStoreError(error) || error.reason !== 'Invalid')
      throw new Error(`${reproduce({ index, fuzz, via: 'KubeStore' })}: ${String(error)}`, { cause: error });
    return { index, fuzz, via: 'KubeStore', accepted: false, message: [error.message, ...error.causes].join('\n'), embeddedAccepted, embeddedMessage };
  }
}

/** Runs `work` over `items`, `limit` at a time, in order of index. */
async function bounded<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe(`${count} generated manifests through the API server (seed ${seed})`, () => {
  test('each is refused naming the mutated field, or accepted; the embedded store agrees', async () => {
    outcomes.push(...(await bounded(generate(), concurrency, (fuzz, index) => applyOne(index, fuzz))));
    const problems: string[] = [];
    for (const o of outcomes) {
      if (!o.accepted && !names(o.message, o.fuzz)) problems.push(`${reproduce(o)}: refused without naming ${o.fuzz.path}: ${short(o.message)}`);
      if (o.accepted !== o.embeddedAccepted) {
        problems.push(
          `${reproduce(o)}: the API server ${o.accepted ? 'accepted' : `refused (${short(o.message)})`} but the embedded store ${o.embeddedAccepted ? 'accepted' : `refused (${short(o.embeddedMessage)})`}`,
        );
      } else if (!o.embeddedAccepted && !names(o.embeddedMessage, o.fuzz)) {
        problems.push(`${reproduce(o)}: the embedded store refused without naming ${o.fuzz.path}: ${short(o.embeddedMessage)}`);
      }
    }
    expect(problems.slice(0, 40)).toEqual([]);
    // Both answers occur, through both clients: the generator reaches past the schema and within it.
    for (const via of ['KubeStore', 'kubectl'] as const) {
      expect(new Set(outcomes.filter((o) => o.via === via).map((o) => o.accepted))).toEqual(new Set([true, false]));
    }
  }, 180_000);

  test(
    'every accepted manifest is reconciled: status for its generation, or an Event about it',
    async () => {
      const accepted = outcomes.filter((o) => o.accepted);
      expect(accepted.length).toBeGreaterThan(0);
      let silent: Outcome[] = accepted;
      await waitFor(
        async () => {
          const evented = new Set(
            (await env.store.list<KubeObject & { involvedObject: { name: string } }>(eventType, env.namespace)).items.map((e) => e.involvedObject.name),
          );
          const reconciled = new Set<string>();
          for (const kind of ['Cluster', 'TaskDefinition', 'Service'] as const) {
            const { items } = await env.store.list<KubeObject & { status?: { observedGeneration?: number } }>(typeOf(kind), env.namespace);
            for (const o of items) if (o.status?.observedGeneration === o.metadata.generation) reconciled.add(`${kind}/${o.metadata.name}`);
          }
          silent = silent.filter((o) => !reconciled.has(`${o.fuzz.kind}/${o.fuzz.manifest.metadata.name}`) && !evented.has(o.fuzz.manifest.metadata.name));
          return silent.length === 0;
        },
        `all ${accepted.length} accepted manifests to show status from the operator or an Event`,
        reconcileTimeoutMs,
        () => `${silent.length} silent, e.g.\n${silent.slice(0, 10).map(reproduce).join('\n')}\n${operator.tail(15)}`,
        1000,
      );
    },
    reconcileTimeoutMs + 30_000,
  );

  test('the sentinel was never disturbed, the operator never crashed, and it still acts', async () => {
    expect(operator.running).toBe(true);
    expect(`${operator.stdout}\n${operator.stderr}`).not.toMatch(/unhandled|uncaught/i);
    expect(ledger.violations).toEqual([]);
    const disturbed = sentinelTasks().filter((t) => !sentinelUids.includes(t.uid) || t.statuses.includes('STOPPED') || t.deleted);
    expect(disturbed).toEqual([]);

    await env.store.patch(serviceType, env.namespace, 'web', { spec: { desiredCount: sentinel.scaledTo } });
    await waitFor(
      async () => steadyOn(await env.service('web'), 'web:1', sentinel.scaledTo),
      `the sentinel to scale to ${sentinel.scaledTo}`,
      120_000,
      async () => `${describeService(await env.service('web'))}\n${ledger.summary()}\n${operator.tail(15)}`,
    );
    const live = ledger.live('web:1').filter((t) => t.metadata.name.startsWith('web-'));
    expect(live).toHaveLength(sentinel.scaledTo);
    expect(live.map((t) => t.metadata.uid)).toEqual(expect.arrayContaining(sentinelUids));
    expect(sentinelTasks().filter((t) => t.statuses.includes('STOPPED'))).toEqual([]);
    expect(operator.running).toBe(true);
    const service = await env.service('web');
    expect((service as Service).status?.runningCount).toBe(sentinel.scaledTo);
  }, 150_000);
});
