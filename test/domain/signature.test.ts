// The gateway's signing algorithms against vectors computed independently from the documented algorithm
// (Python's hashlib and urllib.parse.parse_qsl, not this code), and the reference's worked example, whose
// printed hash does not reproduce from its own inputs.
import { describe, expect, it } from 'vitest';
import { paramsData, parseTimestamp, requestSignature, sameDigest, tokenEncryption, withinWindow } from '../../src/domain/signature.js';

const DOC = {
  accessToken: 'xxxxaaaxxxx',
  appSecret: 'xxxappSecretxxx',
  timestamp: '1572574909697',
  rawQuery: 'k3=v3&k1=v1&k2=v2',
  rawBody: '{\n  "count": 20,\n  "page": 1,\n  "desc": "description"\n}',
};

describe('paramsData', () => {
  it.each([
    ['', ''],
    ['k3=v3&k1=v1&k2=v2', 'k1v1k2v2k3v3'],
    ['b=2&a=1', 'a1b2'],
    // values URL-decoded, `+` a space (as HTML forms and Python's urlencode send it)
    ['note=a%20b%2Bc&x=y+z', 'notea b+cxy z'],
    ['a=&b', 'ab'],
    // repeated keys keep their order of arrival
    ['k=2&a=0&k=1', 'a0k2k1'],
    // ASCII order: upper case before lower case
    ['orgId=o&action=get&Z=1', 'Z1actiongetorgIdo'],
  ])('%j -> %j', (q, out) => expect(paramsData(q)).toBe(out));
});

describe('requestSignature', () => {
  it('matches vectors computed from the documented algorithm', () => {
    expect(requestSignature(DOC)).toBe('ad6dc6fc97f4290f3724e94eab38168d8613c41c3a4569b4b8b0efbce96a816c');
    const v2 = {
      accessToken: '3f1c0d5e-9a7b-4c1e-8f00-aa11bb22cc33',
      appSecret: 's3cr3t-Secret_Key',
      timestamp: '1764633600000',
      rawQuery: 'action=trigger&userId=u-admin&orgId=o-default&note=a%20b%2Bc',
      rawBody: '{"flowId":1,"triggerTime":1764633600000}',
    };
    expect(requestSignature(v2)).toBe('f3c03947f2173a23bbe93d3ae0c1e17cffec8d14213b4d105bf41bcebdca07c5');
    expect(requestSignature({ ...v2, rawQuery: '', rawBody: '' })).toBe('b21b1a60b9790bdfd2b7928d749480bf64987a58b014ded7568d5ca843706cda');
  });

  it("the reference's printed example hash does not come out of its printed inputs", () => {
    expect(requestSignature(DOC)).not.toBe('59828328f6c1f9771015dc74e4929ae30f518a35a3d2353972c2ea46556fc981');
  });

  it('signs the body as bytes: a Buffer and its UTF-8 string agree, a changed byte changes it', () => {
    const body = '{"name":"数据"}';
    const a = requestSignature({ ...DOC, rawBody: body });
    expect(requestSignature({ ...DOC, rawBody: Buffer.from(body, 'utf8') })).toBe(a);
    expect(requestSignature({ ...DOC, rawBody: '{"name":"数据" }' })).not.toBe(a);
    // whitespace and key order are part of the signed text
    expect(requestSignature({ ...DOC, rawBody: '{ "count":20}' })).not.toBe(requestSignature({ ...DOC, rawBody: '{"count":20}' }));
  });
});

describe('tokenEncryption', () => {
  it('is SHA-256 of appKey + timestamp + appSecret', () => {
    expect(tokenEncryption('ak-example', 1764633600000, 'sk-example')).toBe('6bd841c2d091c0f42f9c1d9b7eda007cb469c755e9fb4a097257435717c9b1b3');
    expect(tokenEncryption('ak-example', '1764633600000', 'sk-example')).toBe('6bd841c2d091c0f42f9c1d9b7eda007cb469c755e9fb4a097257435717c9b1b3');
  });
});

describe('helpers', () => {
  it('sameDigest', () => {
    expect(sameDigest('ab', 'ab')).toBe(true);
    expect(sameDigest('ab', 'ac')).toBe(false);
    expect(sameDigest('ab', 'abc')).toBe(false);
  });
  it.each([
    ['1572574909697', 1572574909697],
    [1572574909697, 1572574909697],
    ['', null],
    ['12.5', null],
    ['-1', null],
    ['1e12', null],
    [' 1', null],
    ['9999999999999999', null],
    [undefined, null],
  ])('parseTimestamp(%j) = %j', (raw, out) => expect(parseTimestamp(raw)).toBe(out));
  it('withinWindow is inclusive both sides', () => {
    expect(withinWindow(1000, 1300, 300)).toBe(true);
    expect(withinWindow(1600, 1300, 300)).toBe(true);
    expect(withinWindow(999, 1300, 300)).toBe(false);
    expect(withinWindow(1601, 1300, 300)).toBe(false);
  });
});
