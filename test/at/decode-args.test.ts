/**
 * decodeArgs: raw arguments checked against a parameter list (arity, type, range, optional).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodeArgs, decodeOne, rangeText, type Decoded, type DecodedOf, type IntParam, type ParamSpec } from '../../src/at/decode-args.js';
import { ok, type CommandContext } from '../../src/at/types.js';
import { oneOf, optional, withArgs, withIndexedArgs } from '../../src/vendors/common/decode.js';
import { splitArgs } from '../../src/at/parse-command-line.js';

const OPEN: ParamSpec[] = [
  { name: 'client_idx', type: 'int', min: 0, max: 5 },
  { name: 'host_name', type: 'string', minLength: 1, maxLength: 10 },
  { name: 'port', type: 'int', min: 1, max: 65535 },
];

const decode = (params: readonly ParamSpec[], text: string) => decodeArgs(params, splitArgs(text));

describe('arity', () => {
  it('decodes a full argument list into typed values', () => {
    expect(decode(OPEN, '0,"host",1883')).toEqual({ ok: true, values: [0, 'host', 1883] });
  });

  it('refuses more arguments than parameters', () => {
    const r = decode(OPEN, '0,"host",1883,1');
    expect(r).toEqual({ ok: false, problem: 'too many arguments (4 > 3)' });
  });

  it('refuses a missing required argument (absent at the end)', () => {
    expect(decode(OPEN, '0,"host"')).toEqual({ ok: false, problem: 'missing <port>' });
  });

  it('refuses a missing required argument (empty position)', () => {
    expect(decode(OPEN, '0,,1883')).toEqual({ ok: false, problem: 'missing <host_name>' });
  });

  it('refuses an empty argument list when the first parameter is required', () => {
    expect(decode(OPEN, '')).toEqual({ ok: false, problem: 'missing <client_idx>' });
  });

  it('refuses one argument for a command that takes none', () => {
    expect(decodeArgs([], splitArgs(''))).toEqual({ ok: false, problem: 'too many arguments (1 > 0)' });
    expect(decodeArgs([], [])).toEqual({ ok: true, values: [] });
  });
});

describe('optional parameters', () => {
  const P: ParamSpec[] = [
    { name: 'fun', type: 'int', values: [0, 1, 4] },
    { name: 'rst', type: 'int', values: [0, 1], optional: true },
    { name: 'tag', type: 'string', optional: true },
  ];

  it('leaves absent optional values undefined', () => {
    expect(decode(P, '1')).toEqual({ ok: true, values: [1, undefined, undefined] });
  });

  it('leaves empty optional positions undefined', () => {
    expect(decode(P, '1,,"x"')).toEqual({ ok: true, values: [1, undefined, 'x'] });
    expect(decode(P, '4,')).toEqual({ ok: true, values: [4, undefined, undefined] });
  });

  it('still checks optional values that are given', () => {
    expect(decode(P, '1,2')).toEqual({ ok: false, problem: '<rst>=2 not in (0,1)' });
  });
});

describe('integer parameters', () => {
  it('refuses a value below min and above max, naming the bound', () => {
    expect(decode(OPEN, '-1,"h",1')).toEqual({ ok: false, problem: '<client_idx>=-1 below 0' });
    expect(decode(OPEN, '6,"h",1')).toEqual({ ok: false, problem: '<client_idx>=6 above 5' });
    expect(decode(OPEN, '0,"h",65536')).toEqual({ ok: false, problem: '<port>=65536 above 65535' });
  });

  it('accepts the bounds themselves', () => {
    expect(decode(OPEN, '5,"h",65535')).toEqual({ ok: true, values: [5, 'h', 65535] });
    expect(decode(OPEN, '0,"h",1')).toEqual({ ok: true, values: [0, 'h', 1] });
  });

  it('refuses a value outside a list of allowed values', () => {
    expect(decodeArgs([{ name: 'vsn', type: 'int', values: [3, 4] }], splitArgs('5'))).toEqual({
      ok: false,
      problem: '<vsn>=5 not in (3,4)',
    });
  });

  it('refuses a quoted number where an integer is expected', () => {
    expect(decode(OPEN, '"0","h",1')).toEqual({ ok: false, problem: '<client_idx> must be an integer' });
  });

  it('refuses bare tokens such as 0xFFFF or 1.5 where an integer is expected', () => {
    expect(decode(OPEN, '0,"h",0xFFFF')).toEqual({ ok: false, problem: '<port> must be an integer' });
    expect(decode(OPEN, '0,"h",1.5')).toEqual({ ok: false, problem: '<port> must be an integer' });
  });
});

describe('string parameters', () => {
  it('refuses an unquoted token where a string is expected', () => {
    expect(decode(OPEN, '0,host,1883')).toEqual({ ok: false, problem: '<host_name> must be a quoted string' });
    expect(decode(OPEN, '0,5,1883')).toEqual({ ok: false, problem: '<host_name> must be a quoted string' });
  });

  it('accepts an unquoted token (bare or number) when allowBare is set, as typed', () => {
    const p: ParamSpec = { name: 'key', type: 'string', allowBare: true };
    expect(decodeOne(p, splitArgs('0xFFFF')[0]!)).toBe('0xFFFF');
    expect(decodeOne(p, splitArgs('007')[0]!)).toBe('007');
  });

  it('checks minLength and maxLength in bytes', () => {
    expect(decode(OPEN, '0,"",1')).toEqual({ ok: false, problem: '<host_name> shorter than 1' });
    expect(decode(OPEN, '0,"0123456789",1')).toEqual({ ok: true, values: [0, '0123456789', 1] });
    expect(decode(OPEN, '0,"0123456789a",1')).toEqual({ ok: false, problem: '<host_name> longer than 10' });
  });

  it('reports the first problem in parameter order', () => {
    expect(decode(OPEN, '9,"",0')).toEqual({ ok: false, problem: '<client_idx>=9 above 5' });
  });
});

describe('rangeText', () => {
  it('renders a range as (min-max) and a list as (a,b)', () => {
    expect(rangeText({ name: 'n', type: 'int', min: 0, max: 5 })).toBe('(0-5)');
    expect(rangeText({ name: 'n', type: 'int', values: [0, 1, 4] })).toBe('(0,1,4)');
  });
});

describe('typed values (checked by the compiler; the runtime values are asserted too)', () => {
  it('types an int as number and a string as string, in parameter order', () => {
    const r = decodeArgs(
      [
        { name: 'client_idx', type: 'int', min: 0, max: 5 },
        { name: 'host_name', type: 'string' },
      ],
      splitArgs('0,"h"'),
    );
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<[number, string]>();
    expect(r.values).toEqual([0, 'h']);
  });

  it('adds undefined to an optional parameter only', () => {
    const r = decodeArgs(
      [
        { name: 'a', type: 'int' },
        { name: 'b', type: 'int', optional: true },
        { name: 'c', type: 'string', optional: true },
        { name: 'd', type: 'string', optional: false },
      ],
      splitArgs('1,,,"d"'),
    );
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<[number, number | undefined, string | undefined, string]>();
    expect(r.values).toEqual([1, undefined, undefined, 'd']);
  });

  it('narrows an int with a list of values written in place to the union of those values', () => {
    const r = decodeArgs(
      [
        { name: 'fun', type: 'int', values: [0, 1, 4] },
        { name: 'rst', type: 'int', values: [0, 1], optional: true },
      ],
      splitArgs('4'),
    );
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<[0 | 1 | 4, 0 | 1 | undefined]>();
    expect(r.values).toEqual([4, undefined]);
  });

  it('keeps number for a list of values typed as number[] (not written in place)', () => {
    const values: number[] = [3, 4];
    expectTypeOf<DecodedOf<[{ name: 'v'; type: 'int'; values: number[] }]>>().toEqualTypeOf<[number]>();
    const r = decodeArgs([{ name: 'vsn', type: 'int', values }], splitArgs('4'));
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<[number]>();
  });

  it('types a parameter built elsewhere by its declared type (ParamSpec: number | string | undefined; IntParam: number)', () => {
    const idx: IntParam = { name: 'client_idx', type: 'int', min: 0, max: 5 };
    // As vendor helpers build them (`clientIdxParam(q): ParamSpec`).
    const anyParam = (): ParamSpec => ({ name: 'x', type: 'string', optional: true });
    const r = decodeArgs([idx, anyParam()], splitArgs('1,"x"'));
    if (!r.ok) throw new Error(r.problem);
    // IntParam's optional is `boolean | undefined`: the compiler cannot rule absence out.
    expectTypeOf(r.values).toEqualTypeOf<[number | undefined, string | number | undefined]>();
    expect(r.values).toEqual([1, 'x']);
  });

  it('falls back to Decoded for a list whose length the compiler does not know, as before', () => {
    expectTypeOf(decode).returns.toEqualTypeOf<ReturnType<typeof decodeArgs<readonly ParamSpec[]>>>();
    const r = decode(OPEN, '0,"host",1883');
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<Decoded>();
    // An existing handler typed with Decoded still fits a typed list (its casts become redundant).
    const handler = (values: Decoded) => values.length;
    const typed = decodeArgs([{ name: 'n', type: 'int' }], splitArgs('1'));
    if (typed.ok) expect(handler(typed.values)).toBe(1);
  });

  it('hands withArgs callbacks the typed tuple', async () => {
    const ctx = { args: splitArgs('2,"t"') } as unknown as CommandContext;
    let seen: unknown;
    const out = await withArgs(
      ctx,
      [
        { name: 'n', type: 'int', values: [0, 1, 2] },
        { name: 'topic', type: 'string' },
      ],
      ([n, topic]) => {
        expectTypeOf(n).toEqualTypeOf<0 | 1 | 2>();
        expectTypeOf(topic).toEqualTypeOf<string>();
        seen = [n, topic];
        return ok();
      },
    );
    expect(out).toEqual(ok());
    expect(seen).toEqual([2, 't']);
  });
});

describe('oneOf (a range checked by the decoder, narrowed to its literal union)', () => {
  it('returns a value in the list, typed as the union of the list', () => {
    const qos = oneOf(2, [0, 1, 2]);
    expectTypeOf(qos).toEqualTypeOf<0 | 1 | 2>();
    expect(qos).toBe(2);
    expect(oneOf(0, [0, 1, 2])).toBe(0);
  });

  it('throws on a value outside the list (the parameter and the list disagree: a bug)', () => {
    expect(() => oneOf(3, [0, 1, 2])).toThrow(RangeError);
    expect(() => oneOf(3, [0, 1, 2])).toThrow('3 not in (0,1,2)');
  });
});

describe('withIndexedArgs (an index, then a parameter list built apart from it)', () => {
  const IDX = { name: 'client_idx', type: 'int', min: 0, max: 5 } as const;
  const params = [
    { name: 'qos', type: 'int', values: [0, 1, 2] },
    { name: 'topic', type: 'string', optional: true },
  ] as const;
  const run = (text: string) => {
    let seen: unknown;
    const out = withIndexedArgs({ args: splitArgs(text) } as unknown as CommandContext, IDX, params, (idx, [qos, topic]) => {
      expectTypeOf(idx).toEqualTypeOf<number>();
      expectTypeOf(qos).toEqualTypeOf<0 | 1 | 2>();
      expectTypeOf(topic).toEqualTypeOf<string | undefined>();
      seen = [idx, qos, topic];
      return ok();
    });
    return { out, seen };
  };

  it('hands the callback the index and the typed values', () => {
    expect(run('3,2,"t"')).toEqual({ out: ok(), seen: [3, 2, 't'] });
    expect(run('0,1')).toEqual({ out: ok(), seen: [0, 1, undefined] });
  });

  it('reports the problems withArgs reports for the whole list, in the same order', async () => {
    const whole = [IDX, ...params];
    for (const text of ['3,2,"t",1', '', '6,2', '9,9,9,9', ',1', '1', '1,3', '1,1,5']) {
      const expected = await withArgs({ args: splitArgs(text) } as unknown as CommandContext, whole, () => ok());
      expect(run(text).out, text).toEqual(expected);
      expect(run(text).seen, text).toBeUndefined();
    }
  });
});

describe('optional (a parameter built elsewhere, bracketed in the manual)', () => {
  it('marks the parameter optional: it may be left out and then decodes to undefined', () => {
    const idx = { name: 'ssl_id', type: 'int', min: 0, max: 5 } as const;
    expect(optional(idx)).toEqual({ ...idx, optional: true });
    const r = decodeArgs([{ name: 'enable', type: 'int', values: [0, 1] }, optional(idx)], splitArgs('1'));
    if (!r.ok) throw new Error(r.problem);
    expectTypeOf(r.values).toEqualTypeOf<[0 | 1, number | undefined]>();
    expect(r.values).toEqual([1, undefined]);
  });
});
