// The API versions the service mounts: V2.1 and its predecessor V2.0 (ref §10). One operation registry
// serves both; a VersionSpec says only how a version differs on the wire (prefix, envelope, first page
// number, input spellings, error texts).
import { INVALID_SORTER_TEXT } from '../service/paging.js';
import { REFERENCED_TEXT } from '../service/flowLifecycle.js';
import type { VersionSpec } from './operation.js';

export const V2_1: VersionSpec = { name: 'v2.1', prefix: '/batch-processing-service/v2.1', envelope: 'v2.1', pageBase: 1 };

export const V2_0: VersionSpec = {
  name: 'v2.0',
  prefix: '/dataflow-batch-service/v2.0',
  envelope: 'v2.0',
  pageBase: 0,
  inputAliases: { searchValue: 'expression' },
  flowExtras: true,
  errorTexts: [
    ['Internal server exception', 'Server internal exception'],
    [INVALID_SORTER_TEXT, 'illegal sorted by field'],
    [REFERENCED_TEXT, 'This workflow is relied on by other workflows. You cannot delete this workflow.'],
    ['Incorrect parameter', 'graph not found'],
  ],
};

export const API_VERSIONS: readonly VersionSpec[] = [V2_1, V2_0];
