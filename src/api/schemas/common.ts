// Reusable TypeBox pieces of request schemas. Ids and times come as numbers or numeric strings;
// JSON-valued fields as the value or its JSON text. `description` is what a 62102 message says a
// field must be (src/api/errors.ts reads it from the failing schema).
import { Type, type TSchema } from '@sinclair/typebox';
import { MAX_DESC_LENGTH, MAX_NAME_LENGTH } from '../../service/limits.js';

export const Id = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+\\s*$' })], {
  description: 'a non-negative integer (number or numeric string)',
});

export const EpochMs = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^\\s*\\d+\\s*$' })], {
  description: 'epoch milliseconds (number or numeric string)',
});

export const PositiveInt = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\s*\\d+\\s*$' })], {
  description: 'a positive integer',
});

export const IntLike = Type.Union([Type.Integer(), Type.String({ pattern: '^\\s*-?\\d+\\s*$' })], {
  description: 'an integer (number or numeric string)',
});

export const Text = Type.String({ description: 'a string' });

export const NonEmptyText = Type.String({ minLength: 1, description: 'a non-empty string' });

/** A workflow's name: bounded (the body limit alone would let 1 MB through). */
export const NameText = Type.String({ maxLength: MAX_NAME_LENGTH, description: `a string of at most ${MAX_NAME_LENGTH} characters` });

/** A workflow's description. */
export const DescText = Type.String({ maxLength: MAX_DESC_LENGTH, description: `a string of at most ${MAX_DESC_LENGTH} characters` });

/** A JSON value of the given shape, or a string holding its JSON text. */
export function JsonOr(shape: TSchema, what: string) {
  return Type.Union([Type.String(), shape], { description: `${what}, or its JSON text` });
}

export const AnyObject = Type.Object({}, { additionalProperties: true });
export const ObjectList = Type.Array(Type.Object({}, { additionalProperties: true }));

/** `[{key,value}]`, an object map, or the JSON text of either ("k=v" lines are accepted too). */
export const ParamsInput = Type.Union([Type.String(), Type.Array(Type.Unknown()), AnyObject], {
  description: 'a list of {key,value}, an object map, or its JSON text',
});

/** Pagination (ref §2.4): checked in detail by src/service/paging.ts, which names the field at fault. */
export const PaginationInput = JsonOr(AnyObject, 'a Pagination object {pageNo, pageSize, sorters}');
