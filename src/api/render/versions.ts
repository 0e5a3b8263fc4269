// Flow versions on the wire (extension, issue 12): a version's reference, its content, a comparison.
// Times as everywhere: the service zone's text beside epoch ms (`createTime`, `createTimeMs`).
import type { FlowVersion, FlowVersionRef } from '../../domain/versions.js';
import type { VersionComparison, VersionList } from '../../service/versions.js';
import type { FlowVersionComparisonWire, FlowVersionListWire, FlowVersionRefWire, FlowVersionWire } from '../openapi/structs.js';
import { stamped } from './dates.js';

export function renderVersionRef(v: FlowVersionRef, tz: string): FlowVersionRefWire {
  return { version: v.number, hash: v.hash, createdBy: v.createdBy, ...stamped('createTime', v.createdAt, tz) };
}

export function renderVersionList(l: VersionList, tz: string): FlowVersionListWire {
  return { flowId: l.flowId, currentVersion: l.current, versions: l.versions.map((v) => renderVersionRef(v, tz)) };
}

export function renderVersion(v: FlowVersion, tz: string): FlowVersionWire {
  return { flowId: v.flowId, ...renderVersionRef(v, tz), flow: v.snapshot.flow, tasks: v.snapshot.tasks };
}

export function renderComparison(c: VersionComparison, tz: string): FlowVersionComparisonWire {
  return { flowId: c.flowId, from: renderVersionRef(c.from, tz), to: renderVersionRef(c.to, tz), ...c.diff };
}
