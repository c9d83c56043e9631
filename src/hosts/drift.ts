import { DEFAULT_NODE_PROCESSES } from './lxd/node-config.js';
import type { NodeDrift, NodeFlavor, NodeInfo } from './types.js';

/** What a node is asked to be now: its bay's flavor, and its aggregate's modules and image. */
export interface WantedNodeSettings {
  readonly flavor: NodeFlavor;
  readonly kernelModules: readonly string[];
  /** The fingerprint the aggregate's image alias points at on the node's host, when known. */
  readonly imageFingerprint?: string | undefined;
}

/**
 * Where a node's instance differs from what is wanted of it. Pure, so the controller can judge any
 * node it has seen in a host listing without asking the host again.
 */
export function nodeDrift(node: NodeInfo, wanted: WantedNodeSettings): NodeDrift[] {
  const drift: NodeDrift[] = [];
  const differ = (setting: NodeDrift['setting'], actual: string, want: string): void => {
    if (actual !== want) drift.push({ setting, actual, wanted: want });
  };
  if (wanted.imageFingerprint !== undefined && node.imageFingerprint !== undefined) {
    differ('image', short(node.imageFingerprint), short(wanted.imageFingerprint));
  }
  differ('kernel-modules', moduleList(node.kernelModules), moduleList(wanted.kernelModules));
  const { limits } = node;
  const { flavor } = wanted;
  if (limits.cpu !== undefined) differ('cpu', String(limits.cpu), String(flavor.cpu));
  if (limits.memoryBytes !== undefined) differ('memory', String(limits.memoryBytes), String(flavor.memoryBytes));
  if (limits.processes !== undefined) differ('processes', String(limits.processes), String(flavor.processes ?? DEFAULT_NODE_PROCESSES));
  if (limits.diskBytes !== undefined) differ('disk', String(limits.diskBytes), String(flavor.diskBytes));
  return drift;
}

/** `kernel-modules (a,b → none)`: how drift reads in a condition or an Event. */
export function describeDrift(drift: readonly NodeDrift[]): string {
  return drift.map((d) => `${d.setting} (${d.actual || 'none'} → ${d.wanted || 'none'})`).join(', ');
}

const moduleList = (modules: readonly string[]): string => [...new Set(modules)].sort().join(',');
const short = (fingerprint: string): string => fingerprint.slice(0, 12);
