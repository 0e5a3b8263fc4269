// The operation registry: every operation of the API, declared once. Versions mount what they have.
import type { AnyOperation } from '../operation.js';
import { directoryOperations } from './directories.js';
import { flowInstanceOperations } from './flowInstances.js';
import { flowOperations } from './flows.js';
import { flowVersionOperations } from './flowVersions.js';
import { taskInstanceOperations } from './taskInstances.js';
import { timeOperations } from './time.js';

export const OPERATIONS: AnyOperation[] = [...flowOperations, ...flowVersionOperations, ...flowInstanceOperations, ...taskInstanceOperations, ...directoryOperations, ...timeOperations];
