// Request schemas of /directories (ref §6.2, 6.16). Emptiness is checked by the service, which answers
// with the reference's texts ("param: dirName cannot be empty", ...).
import { Type } from '@sinclair/typebox';

export const CreateDirectoryBody = Type.Object({
  parentId: Type.Optional(Type.Union([Type.String(), Type.Integer()], { description: 'a directory id' })),
  dirName: Type.Optional(Type.String({ description: 'a string' })),
});
