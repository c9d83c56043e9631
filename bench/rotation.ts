/**
 * Certificate rotations of a Ready 3-node bay (1 manager), median of 3 runs each. Real everything: a real
 * kube-apiserver, the operator as a process, the LXD host of tools/setup-lxd-host.sh.
 *
 * - Leaf rotation: a new marina.dev/rotate-certificates value, until status says it is handled and the bay
 *   is Ready again (every node restarted with a new certificate).
 * - CA rotation: a new marina.dev/rotate-ca value, with spec.tls.caOverlap at its minimum of 1m. Timed to
 *   the Overlap step (every node serves a certificate of the new CA, new credentials out), from the end of
 *   the overlap until the old CA is dropped and the bay Ready, and in total (the 1 minute overlap included).
 *
 * Each run also counts the bay's NodeRestarted Events made during it: 3 for a leaf rotation, 6 for a CA
 * rotation (every node restarted once to serve the new CA, once more to stop trusting the old one).
 *
 *   npm run build && npx tsx bench/rotation.ts [--runs 3]
 *
 * Prints a table and writes bench/results/rotation.json.
 */
import { parseArgs } from 'node:util';
import { bayYaml, getBay, type BayView } from '../test/support/bays/cluster.js';
import { mustKubectl, type Kubectl } from '../test/support/kubectl.js';
import { printTable, seconds, sleep, spread, type Spread } from './support/measure.js';
import { withRealBay, writeResults } from './support/real-bay.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not ${values.runs}`);

const NS = 'bench-rotation';
const AGGREGATE = 'bench-rotation';
const BAY = 'rot';
const NODES = 3;
/** The smallest overlap the CRD allows: a CA rotation cannot be shorter than this. */
const CA_OVERLAP = '1m';
const POLL_MS = 250;
/** A CA rotation restarts every node twice around the overlap; far more than that means it is stuck. */
const ROTATION_TIMEOUT_MS = 10 * 60_000;
/** Lets the trailing status write and Events of one run land before the next run starts its clock. */
const SETTLE_MS = 5_000;
const EXPECTED_RESTARTS = { leaf: NODES, ca: 2 * NODES } as const;

interface LeafRun {
  readonly value: string;
  readonly leafMs: number;
  readonly nodeRestarts: number;
}

interface CaRun {
  readonly value: string;
  /** Annotation → step Overlap: every node serves a certificate of the new CA. */
  readonly toOverlapMs: number;
  /** Step leaves Overlap → handled and Ready: the old CA dropped, node by node. */
  readonly dropMs: number;
  readonly totalMs: number;
  readonly nodeRestarts: number;
}


async function annotate(kubectl: Kubectl, key: string, value: string): Promise<void> {
  await mustKubectl(kubectl, ['annotate', '--overwrite', 'bay', BAY, '-n', NS, `${key}=${value}`]);
}

/** The bay acknowledged `value` of a rotation request and is Ready again: the rotation is over. */
function handled(bay: BayView, request: string, value: string): boolean {
  return bay.status?.certificates?.handledRequests?.[request] === value && bay.status.phase === 'Ready';
}

type Seen = (bay: BayView, at: number) => boolean;

/**
 * Reads the bay every POLL_MS and hands each view, with the moment its read returned, to `seen` until
 * that says done; returns that moment. A stopped rollout fails the run at once rather than at the timeout.
 */
async function pollBay(kubectl: Kubectl, what: string, seen: Seen): Promise<number> {
  const deadline = performance.now() + ROTATION_TIMEOUT_MS;
  for (;;) {
    const tick = performance.now();
    const bay = await getBay(kubectl, NS, BAY);
    const at = performance.now();
    if (seen(bay, at)) return at;
    const stopped = bay.status?.conditions?.find((c) => c.reason === 'RolloutFailed');
    if (stopped) throw new Error(`${what}: the rollout stopped: ${stopped.message}`);
    if (at > deadline) {
      throw new Error(`${what}: not done after ${ROTATION_TIMEOUT_MS / 1000} s, phase ${bay.status?.phase}`);
    }
    // One read per POLL_MS, however long the kubectl call itself took.
    await sleep(Math.max(0, tick + POLL_MS - performance.now()));
  }
}

interface EventList {
  readonly items: ReadonlyArray<{
    readonly eventTime?: string | null;
    readonly lastTimestamp?: string | null;
    readonly firstTimestamp?: string | null;
    readonly metadata: { readonly creationTimestamp: string };
  }>;
}

/**
 * NodeRestarted Events of the bay made at or after `sinceMs` (wall clock). marina writes events.k8s.io
 * Events, which carry a microsecond eventTime; the core/v1 timestamps are only a fallback. Each restart's
 * note names its new serial, so no two restarts fold into one Event's series.
 */
async function nodeRestartsSince(kubectl: Kubectl, sinceMs: number): Promise<number> {
  const selector = `reason=NodeRestarted,involvedObject.kind=Bay,involvedObject.name=${BAY}`;
  const out = await mustKubectl(kubectl, ['get', 'events', '-n', NS, '--field-selector', selector, '-o', 'json']);
  const when = (e: EventList['items'][number]): number =>
    Date.parse(e.eventTime ?? e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp);
  return (JSON.parse(out) as EventList).items.filter((e) => when(e) >= sinceMs).length;
}

async function leafRotation(kubectl: Kubectl, i: number): Promise<LeafRun> {
  const value = `leaf-${i}`;
  const sinceMs = Date.now();
  const started = performance.now();
  await annotate(kubectl, 'marina.dev/rotate-certificates', value);
  const done = await pollBay(kubectl, `leaf rotation ${value}`, (bay) => handled(bay, 'rotateCertificates', value));
  return { value, leafMs: Math.round(done - started), nodeRestarts: await nodeRestartsSince(kubectl, sinceMs) };
}

async function caRotation(kubectl: Kubectl, i: number): Promise<CaRun> {
  const value = `ca-${i}`;
  const sinceMs = Date.now();
  const started = performance.now();
  await annotate(kubectl, 'marina.dev/rotate-ca', value);
  let overlapAt: number | undefined;
  let overlapEndAt: number | undefined;
  const done = await pollBay(kubectl, `CA rotation ${value}`, (bay, at) => {
    // The overlap ends when the step becomes Dropping, or when the rotation is gone between two reads.
    if (bay.status?.certificates?.rotation?.step === 'Overlap') overlapAt ??= at;
    else if (overlapAt !== undefined) overlapEndAt ??= at;
    return handled(bay, 'rotateCa', value);
  });
  if (overlapAt === undefined || overlapEndAt === undefined) {
    throw new Error(`CA rotation ${value} finished without an Overlap step in ${POLL_MS} ms reads`);
  }
  return {
    value,
    toOverlapMs: Math.round(overlapAt - started),
    dropMs: Math.round(done - overlapEndAt),
    totalMs: Math.round(done - started),
    nodeRestarts: await nodeRestartsSince(kubectl, sinceMs),
  };
}


function restartCell(counts: readonly number[], expected: number): string {
  return `${counts.join(', ')} (expected ${expected})`;
}

function printSummary(leaf: readonly LeafRun[], ca: readonly CaRun[]): Record<string, Spread> {
  const summary = {
    leafRotation: spread(leaf.map((r) => r.leafMs)),
    caToOverlap: spread(ca.map((r) => r.toOverlapMs)),
    caDropAfterOverlap: spread(ca.map((r) => r.dropMs)),
    caTotal: spread(ca.map((r) => r.totalMs)),
  };
  const row = (label: string, s: Spread, restarts: string): string[] => [
    label,
    seconds(s.medianMs),
    seconds(s.minMs),
    seconds(s.maxMs),
    restarts,
  ];
  const caRestarts = restartCell(ca.map((r) => r.nodeRestarts), EXPECTED_RESTARTS.ca);
  printTable(
    [`${NODES}-node bay`, 'median', 'min', 'max', 'NodeRestarted Events per run'],
    [
      row('leaf rotation', summary.leafRotation, restartCell(leaf.map((r) => r.nodeRestarts), EXPECTED_RESTARTS.leaf)),
      row('CA rotation to Overlap', summary.caToOverlap, ''),
      row('CA drop after overlap', summary.caDropAfterOverlap, ''),
      row('CA rotation total (incl. 1 min overlap)', summary.caTotal, caRestarts),
    ],
  );
  return summary;
}

async function main(): Promise<void> {
  const leaf: LeafRun[] = [];
  const ca: CaRun[] = [];
  const bayYamlText = bayYaml(BAY, NS, { nodes: NODES, managers: 1, tls: { caOverlap: CA_OVERLAP } });
  await withRealBay({ namespace: NS, aggregate: AGGREGATE, bay: BAY, bayYaml: bayYamlText }, async ({ kubectl }) => {
    for (let i = 0; i < runs; i++) {
      await sleep(SETTLE_MS);
      const r = await leafRotation(kubectl, i);
      leaf.push(r);
      console.error(`${r.value}: ${seconds(r.leafMs)}, ${r.nodeRestarts} NodeRestarted Events`);
    }
    for (let i = 0; i < runs; i++) {
      await sleep(SETTLE_MS);
      const r = await caRotation(kubectl, i);
      ca.push(r);
      const parts = `to Overlap ${seconds(r.toOverlapMs)}, drop ${seconds(r.dropMs)}`;
      console.error(`${r.value}: ${seconds(r.totalMs)} (${parts}), ${r.nodeRestarts} NodeRestarted Events`);
    }
  });
  const summary = printSummary(leaf, ca);
  const result = { date: new Date().toISOString(), nodes: NODES, managers: 1, caOverlap: CA_OVERLAP, pollMs: POLL_MS };
  await writeResults('rotation', { ...result, runs: { leaf, ca }, summary });
}

await main();
