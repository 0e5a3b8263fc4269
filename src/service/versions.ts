// Flow versions as callers see them (extension, issue 12): the versions of a flow, one version's content,
// and what changed between two. Reading them needs read access to the flow (a flow of another org, or
// one the caller may not read, has no versions to show).
import { invalid, outOfRange } from '../domain/errors.js';
import { diffVersions, versionHashOf, type FlowVersion, type FlowVersionRef, type VersionDiff } from '../domain/versions.js';
import type { Caller, Deps } from './context.js';
import { loadFlow } from './flows.js';
import { show } from './input.js';

export interface VersionList {
  flowId: number;
  /** The number of the version the flow has now. */
  current: number | null;
  versions: FlowVersionRef[];
}

export async function listFlowVersions(deps: Deps, caller: Caller, flowId: number): Promise<VersionList> {
  const fw = await loadFlow(deps, caller, flowId);
  const versions = await deps.store.listFlowVersions(caller.user.orgId, flowId);
  const hash = versionHashOf(fw);
  return { flowId, current: versions.find((v) => v.hash === hash)?.number ?? null, versions };
}

/** A version number from the wire: a positive integer (named `field` in the error). */
export function versionNumber(v: string | number | undefined, field: string): number {
  if (v === undefined || v === '') throw invalid(field, `Invalid parameter: ${field} is required (a version number of the workflow)`);
  const text = String(v).trim();
  if (!/^\d+$/.test(text)) throw invalid(field, `Invalid parameter: ${field} must be a positive integer version number, got ${show(v)}`);
  const n = Number(text);
  if (n < 1 || !Number.isSafeInteger(n)) throw outOfRange(field, `Invalid parameter: ${field} must be a positive integer version number, got ${show(v)}`);
  return n;
}

async function loadVersion(deps: Deps, caller: Caller, flowId: number, number: number, field: string): Promise<FlowVersion> {
  const v = await deps.store.getFlowVersion(caller.user.orgId, flowId, number);
  if (!v) throw invalid(field, `Invalid parameter: workflow ${flowId} has no version ${number} (${field})`);
  return v;
}

export async function getFlowVersion(deps: Deps, caller: Caller, flowId: number, number: number): Promise<FlowVersion> {
  await loadFlow(deps, caller, flowId);
  return loadVersion(deps, caller, flowId, number, 'version');
}

export interface VersionComparison {
  flowId: number;
  from: FlowVersionRef;
  to: FlowVersionRef;
  diff: VersionDiff;
}

export async function compareFlowVersions(deps: Deps, caller: Caller, flowId: number, from: number, to: number): Promise<VersionComparison> {
  await loadFlow(deps, caller, flowId);
  const a = await loadVersion(deps, caller, flowId, from, 'from');
  const b = await loadVersion(deps, caller, flowId, to, 'to');
  const { snapshot: sa, ...refA } = a;
  const { snapshot: sb, ...refB } = b;
  return { flowId, from: refA, to: refB, diff: diffVersions(sa, sb) };
}
