// The org's workflow directory tree: listing it with its flows as leaves, and creating directories.
// Messages keep the reference's texts (ref §6.2) at their start.
import { randomUUID } from 'node:crypto';
import { DuplicateKeyError, invalid } from '../domain/errors.js';
import type { Directory, Flow } from '../domain/types.js';
import { isOwner } from './access.js';
import type { Caller, Deps } from './context.js';
import { idText } from './input.js';

export interface DirNode {
  dir: Directory;
  dirs: DirNode[];
  flows: Array<{ flow: Flow; editable: boolean }>;
}

/** The root directory with its sub-directories (by name) and flows (by id); [] when the org has no root. */
export async function listTree(deps: Deps, caller: Caller): Promise<DirNode[]> {
  const orgId = caller.user.orgId;
  const [dirs, flows] = await Promise.all([deps.store.listDirectories(orgId), deps.store.listFlows(orgId)]);
  const nodes = new Map<string, DirNode>(dirs.map((d) => [d.id, { dir: d, dirs: [], flows: [] }]));
  const roots: DirNode[] = [];
  for (const n of [...nodes.values()].sort((a, b) => a.dir.name.localeCompare(b.dir.name))) {
    const parent = n.dir.parentId === null ? undefined : nodes.get(n.dir.parentId);
    if (parent) parent.dirs.push(n);
    else if (n.dir.parentId === null) roots.push(n);
  }
  for (const f of [...flows].sort((a, b) => a.id - b.id)) {
    nodes.get(f.dirId)?.flows.push({ flow: f, editable: isOwner(f, caller.user) });
  }
  return roots;
}

const MAX_DIR_NAME = 128;

export async function createDirectory(deps: Deps, caller: Caller, input: { parentId?: unknown; dirName?: unknown }): Promise<{ dirId: string }> {
  const orgId = caller.user.orgId;
  const dirName = typeof input.dirName === 'string' ? input.dirName.trim() : input.dirName;
  if (dirName === undefined || dirName === null || dirName === '') throw invalid('dirName', 'param: dirName cannot be empty');
  if (typeof dirName !== 'string') throw invalid('dirName', 'Invalid parameter: dirName must be a string');
  if (dirName.length > MAX_DIR_NAME || /[/\\]/.test(dirName)) {
    throw invalid('dirName', `Invalid parameter: dirName must be at most ${MAX_DIR_NAME} characters without "/" or "\\"`);
  }
  const parentId = typeof input.parentId === 'number' ? idText(input.parentId, 'parentId') : input.parentId;
  if (parentId === undefined || parentId === null || parentId === '') throw invalid('parentId', 'param: parentId cannot be empty');
  if (typeof parentId !== 'string') throw invalid('parentId', 'Invalid parameter: parentId must be a string');
  if (!(await deps.store.getDirectory(orgId, parentId))) throw invalid('parentId', `parentId not found: ${parentId}`);
  const id = randomUUID().replace(/-/g, '');
  try {
    await deps.store.createDirectory({ id, orgId, parentId, name: dirName, createdAt: deps.clock.now() });
  } catch (e) {
    if (e instanceof DuplicateKeyError) throw invalid('dirName', `A directory of the same name already exists: ${dirName}`);
    throw e;
  }
  return { dirId: id };
}
