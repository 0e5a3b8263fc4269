// docs/errors.md and the catalogue in src/api/errors.ts list the same keys, with the same codes and HTTP statuses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, apiError } from '../../src/api/errors.js';

const rows = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  .split('\n')
  .map((l) => /^\| `([A-Za-z]+)` \| (\d+) \| (\d+) \|/.exec(l))
  .filter((m): m is RegExpExecArray => m !== null);

describe('docs/errors.md', () => {
  it('lists every catalogue key and no stale one', () => {
    expect(rows.map((m) => m[1]).sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('gives each key the code and HTTP status of the catalogue', () => {
    for (const m of rows) {
      const e = ERRORS[m[1] as keyof typeof ERRORS];
      expect([m[1], Number(m[2]), Number(m[3])]).toEqual([m[1], e.code, e.http]);
    }
  });
});

describe('the catalogue', () => {
  it('keeps the reference texts at the start of messages', () => {
    expect(apiError('unknownUser').msg).toBe('userId does not exist, or it does not match to orgId.');
    expect(apiError('noPrivilege').msg).toBe('User has no privilege.');
    expect(apiError('noTask').msg).toBe('This workflow has no task. You cannot trigger it.');
    expect(apiError('userLocked').msg).toBe('Your account has been locked');
    expect(apiError('internal').msg).toBe('Internal server exception');
    expect(apiError('noTask', 'workflow 3').msg).toBe('This workflow has no task. You cannot trigger it. (workflow 3)');
  });

  it('uses HTTP 200 for every business outcome and only 401/404/413/429/503, or 400/431 from the HTTP layer, otherwise (contract §1)', () => {
    for (const e of Object.values(ERRORS)) expect([200, 400, 401, 404, 413, 429, 431, 503]).toContain(e.http);
    expect(ERRORS.malformedRequest.http).toBe(400);
    expect(ERRORS.headersTooLarge.http).toBe(431);
  });
});
