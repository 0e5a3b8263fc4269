// Request schemas of the /flows operations (ref §6.6, 6.8, 6.14, 6.18, 6.20-6.22). Top-level shapes
// only; src/service/flowDefinition.ts checks the inside of definitions and names nested fields.
import { Type } from '@sinclair/typebox';
import { AnyObject, DescText, EpochMs, Id, IntLike, JsonOr, NameText, ObjectList, PaginationInput, ParamsInput, PositiveInt, Text } from './common.js';

export const FlowIdQuery = Type.Object({ flowId: Id });

/** Enable and Disable Flow. */
export const FlowIdBody = Type.Object({ flowId: Id });

/** Get My Flow: `expression` (V2.0 spells it `searchValue`, mapped by the version's input aliases). */
export const GetMyFlowQuery = Type.Object({ expression: Type.Optional(Text) });

export const SearchFlowBody = Type.Object({ expression: Type.Optional(Text), pagination: Type.Optional(PaginationInput) });

export const ImportBody = Type.Object({
  flowId: Type.Optional(Id),
  // flowName is checked by the service so that missing and empty give the reference's text.
  flowName: Type.Optional(Type.Unknown()),
  desc: DescText,
  dirId: Type.Union([Type.String(), Type.Integer()], { description: 'a directory id' }),
  flowJson: JsonOr(AnyObject, 'the export Flow Struct (an object)'),
});

export const SaveBody = Type.Object({
  id: Id,
  type: IntLike,
  name: NameText,
  freq: Text,
  cycle: Text,
  alertMode: IntLike,
  doAs: Text,
  owners: Text,
  visitors: Text,
  startTime: Text,
  active: IntLike,
  parameters: Type.Optional(ParamsInput),
  desc: Type.Optional(DescText),
  queue: Type.Optional(Text),
  tasks: Type.Optional(JsonOr(ObjectList, 'a list of task nodes')),
  flows: Type.Optional(JsonOr(ObjectList, 'a list of flow reference nodes')),
  relations: Type.Optional(JsonOr(ObjectList, 'a list of relations')),
  graph: Type.Optional(JsonOr(AnyObject, 'a FlowGraph object')),
});

export const TriggerBody = Type.Object({ flowId: Id, triggerTime: EpochMs });

export const UpdateAndTriggerBody = Type.Object({ flowId: Id, triggerTime: EpochMs, parameters: ParamsInput });

export const TriggerFromTaskBody = Type.Object({ flowId: Id, taskId: Id, triggerTime: EpochMs });

/** Backfill (extension, contract §12): the range is inclusive; `cron` is required for a manual workflow. */
export const BackfillBody = Type.Object({
  flowId: Id,
  fromTime: EpochMs,
  toTime: EpochMs,
  cron: Type.Optional(Type.String({ description: '7-field Quartz cron whose fires to make (required for a manual workflow; replaces a periodic one\'s for this call)' })),
  parameters: Type.Optional(ParamsInput),
});


/** Get Flow Version (extension). */
export const FlowVersionQuery = Type.Object({ flowId: Id, version: PositiveInt });

/** Compare Flow Versions (extension). */
export const CompareVersionsQuery = Type.Object({ flowId: Id, from: PositiveInt, to: PositiveInt });
