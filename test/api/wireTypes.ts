// Compile-time check (npm run typecheck: tsc --noEmit includes test/): the renderers (src/api/render) answer
// with exactly the types of the response structs /openapi.json documents and the SDK answers with
// (src/api/openapi/structs.ts, responses.ts, Static of each). The renderers' return annotations already make
// each object literal they build match its struct (a field too many or too few fails there); this file
// pins what those annotations cannot see: that each annotation is the registered response schema's type
// (not a looser one), the fields renderers spread in from domain objects, and the hand-written twins.
import type { Static } from '@sinclair/typebox';
import type { Param as DomainParam } from '../../src/domain/types.js';
import type { VersionDiff } from '../../src/domain/versions.js';
import type { ResponseData } from '../../src/api/openapi/responses.js';
import type {
  DecodedTaskWire,
  FlowGraph,
  FlowInstanceWire,
  FlowVersionComparisonWire,
  FlowWire,
  Param,
  TaskInstanceWire,
  WorkFlowDir,
  WorkFlowDirNode,
  WorkFlowDirWire,
} from '../../src/api/openapi/structs.js';
import type { renderDirTree } from '../../src/api/render/directories.js';
import type { renderFlow, renderGraph, renderMyFlow, renderPageFlow } from '../../src/api/render/flow.js';
import type { renderFlowInstance, renderTaskInstance } from '../../src/api/render/instance.js';
import type { renderComparison, renderVersion, renderVersionList } from '../../src/api/render/versions.js';
import type { DecodedTask, OutputOf } from '../../src/client/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Out<F extends (...args: never[]) => unknown> = ReturnType<F>;

/** Each rendering operation's `data`: the renderer's return type is the registered response schema's Static. */
export const renderersAnswerTheResponseSchemas: {
  getFlow: Equal<Out<typeof renderFlow>, ResponseData<'getFlow'>>;
  loadFlowForEdit: Equal<Out<typeof renderFlow>, ResponseData<'loadFlowForEdit'>>;
  getMyFlow: Equal<Array<Out<typeof renderMyFlow>>, ResponseData<'getMyFlow'>>;
  searchFlow: Equal<Array<Out<typeof renderPageFlow>>, ResponseData<'searchFlow'>>;
  listFlowVersions: Equal<Out<typeof renderVersionList>, ResponseData<'listFlowVersions'>>;
  getFlowVersion: Equal<Out<typeof renderVersion>, ResponseData<'getFlowVersion'>>;
  compareFlowVersions: Equal<Out<typeof renderComparison>, ResponseData<'compareFlowVersions'>>;
  getFlowInstance: Equal<Out<typeof renderFlowInstance>, ResponseData<'getFlowInstance'>>;
  searchFlowInstances: Equal<{ flowInsts: Array<Out<typeof renderFlowInstance>>; count: number }, ResponseData<'searchFlowInstances'>>;
  getTaskInstance: Equal<Out<typeof renderTaskInstance>, ResponseData<'getTaskInstance'>>;
  listWorkFlowDirs: Equal<Array<Out<typeof renderDirTree>>, ResponseData<'listWorkFlowDirs'>>;
} = {
  getFlow: true, loadFlowForEdit: true, getMyFlow: true, searchFlow: true, listFlowVersions: true, getFlowVersion: true,
  compareFlowVersions: true, getFlowInstance: true, searchFlowInstances: true, getTaskInstance: true, listWorkFlowDirs: true,
};

/** ...and the SDK's answer types are those same types. */
export const sdkAnswersAreTheRenderedTypes: {
  getFlow: Equal<OutputOf<'getFlow'>, FlowWire>;
  getFlowInstance: Equal<OutputOf<'getFlowInstance'>, FlowInstanceWire>;
  getTaskInstance: Equal<OutputOf<'getTaskInstance'>, TaskInstanceWire>;
  listWorkFlowDirs: Equal<OutputOf<'listWorkFlowDirs'>, WorkFlowDirWire[]>;
} = { getFlow: true, getFlowInstance: true, getTaskInstance: true, listWorkFlowDirs: true };

/** A JSON-text struct (Flow's `graph` is a string on the wire; its contentSchema documents the text): renderGraph's. */
export const jsonTextContent: Equal<Out<typeof renderGraph>, Static<typeof FlowGraph>> = true;

/**
 * renderComparison spreads the domain's VersionDiff into its answer (no excess-property check reaches a
 * spread): a field added to VersionDiff would reach the wire undocumented. It must be the struct's rest.
 */
export const comparisonSpreadIsTheStruct: Equal<VersionDiff, Omit<FlowVersionComparisonWire, 'flowId' | 'from' | 'to'>> = true;

/** InstanceGraph's `parameters` is the instance's domain Param[] as it is (and Flow's JSON text holds the same). */
export const domainParamIsTheStruct: Equal<DomainParam, Static<typeof Param>> = true;

/** Hand-written twins of the structs: WorkFlowDirNode (recursion behind a $ref) and the SDK's DecodedTask. */
export const twinsMatch: {
  workFlowDir: Equal<WorkFlowDirNode, Static<typeof WorkFlowDir>>;
  decodedTask: Equal<Omit<DecodedTask, 'status'>, Omit<DecodedTaskWire, 'status'>>;
  decodedTaskStatus: DecodedTask['status'] extends DecodedTaskWire['status'] ? true : false;
} = { workFlowDir: true, decodedTask: true, decodedTaskStatus: true };
