/**
 * Scenario files: the schema, and errors that name the file, the line and the step.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseDuration, parseScenario, ScenarioError } from '../../src/control/scenario.js';

const FIXTURES = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'scenarios');

/** The message a scenario text fails with. */
function failure(text: string): string {
  try {
    parseScenario(text, { file: 'test.yaml' });
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  throw new Error('the scenario parsed');
}

describe('parseScenario: the example scenarios', () => {
  it('broker-flaps.yaml: every 10 s, broker down, 3 s, broker up', () => {
    const s = loadScenarioFile(path.join(FIXTURES, 'broker-flaps.yaml'));
    expect(s.name).toBe('broker flaps every 10 s');
    expect(s.modem).toBe('all');
    expect(s.steps).toHaveLength(1);
    const [flap] = s.steps;
    expect(flap!.trigger).toEqual({ kind: 'every', periodMs: 10_000, firstMs: 10_000 });
    expect(flap!.label).toBe('step 1 "flap" (every 10s)');
    expect(flap!.actions.map((a) => a.op)).toEqual(['log', 'broker', 'wait', 'broker', 'log']);
    expect(flap!.actions.filter((a) => a.op === 'broker')).toMatchObject([{ up: false }, { up: true }]);
    expect(flap!.actions.find((a) => a.op === 'wait')).toMatchObject({ ms: 3000 });
  });

  it('ota-command-response.yaml: three `when: published` steps replying on dev/{{1}}/down', () => {
    const s = loadScenarioFile(path.join(FIXTURES, 'ota-command-response.yaml'));
    expect(s.steps.map((x) => x.trigger.kind)).toEqual(['published', 'published', 'published']);
    expect(s.steps[0]!.trigger).toMatchObject({ topic: 'dev/+/up', payload: { kind: 'json', subset: { type: 'hello' } } });
    expect(s.steps[0]!.actions[0]).toMatchObject({ op: 'publish', topic: 'dev/{{1}}/down', qos: 1 });
    expect(s.steps[2]!.actions.map((a) => a.op)).toEqual(['wait', 'publish']);
  });
});

describe('parseScenario: the schema', () => {
  it('reads every trigger and action form', () => {
    const s = parseScenario(
      `
name: all forms
modem: [0, tracker]
steps:
  - at: 0s
    do: drop
  - at: 250ms
    modem: meter
    do:
      - stall: true
      - stall: off
      - broker: down
      - broker: up
      - registration: lost
      - registration: registered
      - refuse-connect: 5
      - refuse-subscribe: "cmd/#"
      - refuse-subscribe: null
      - refuse-publish: dev/+/up
      - puback: { delay: 1.5s }
      - suback: withhold
      - puback: normal
      - signal: 12
      - signal: { rssi: 99, ber: 7 }
      - fail-next-open: dns
      - latency: 200ms
      - response-delay: 0ms
      - baud: 9600
      - override: { command: AT+CSQ, response: ["+CSQ: 1,1", OK], once: true, form: exec }
      - override: { command: +CGMR, response: ERROR }
      - clear-overrides
      - inject: "junk\\r\\n"
      - inject: { hex: "00 ff 1a" }
      - reboot
      - wait: 1m
      - log: hello {{modem}} {{imei}} {{index}} {{n}}
      - publish: { topic: a/b, hex: "0102", qos: 2, retain: true }
  - every: 2s
    at: 0ms
    times: 3
    do: { publish: { topic: "t/{{index}}", json: { n: "{{n}}", s: "x{{n}}" } } }
  - when: { urc: '^\\+QMTSTAT: (\\d),(\\d)$' }
    times: 1
    do: { inject: "{{urc}} {{1}}" }
  - when: { published: "dev/#" }
    do: { log: "{{topic}} {{#}} {{payload}}" }
`,
      { file: 'all.yaml' },
    );
    expect(s.modem).toEqual([0, 'tracker']);
    expect(s.steps[1]!.modem).toEqual(['meter']);
    const acts = s.steps[1]!.actions;
    expect(acts.map((a) => a.op)).toEqual([
      'stall', 'stall', 'broker', 'broker', 'registration', 'registration', 'refuse-connect', 'refuse-subscribe', 'refuse-subscribe',
      'refuse-publish', 'puback', 'suback', 'puback', 'signal', 'signal', 'fail-next-open', 'latency', 'response-delay', 'baud',
      'override', 'override', 'clear-overrides', 'inject', 'inject', 'reboot', 'wait', 'log', 'publish',
    ]);
    expect(acts[1]).toMatchObject({ on: false });
    expect(acts[10]).toMatchObject({ fault: { delayMs: 1500 } });
    expect(acts[11]).toMatchObject({ fault: { delayMs: null } });
    expect(acts[12]).toMatchObject({ op: 'puback', fault: undefined });
    expect(acts[14]).toMatchObject({ rssi: 99, ber: 7 });
    expect(acts[19]).toMatchObject({ override: { command: 'AT+CSQ', response: ['+CSQ: 1,1', 'OK'], once: true, form: 'exec' } });
    expect(acts[20]).toMatchObject({ override: { command: '+CGMR', response: ['ERROR'] } });
    expect(acts[22]).toMatchObject({ text: 'junk\r\n' });
    expect(acts[23]).toMatchObject({ bytes: Buffer.from([0, 0xff, 0x1a]) });
    expect(acts[25]).toMatchObject({ ms: 60_000 });
    expect(acts[27]).toMatchObject({ payload: { kind: 'bytes', bytes: Buffer.from([1, 2]) }, qos: 2, retain: true });
    expect(s.steps[2]!.trigger).toEqual({ kind: 'every', periodMs: 2000, firstMs: 0, times: 3 });
    expect(s.steps[3]!.trigger).toMatchObject({ kind: 'urc', times: 1 });
    expect(s.steps[4]!.trigger).toEqual({ kind: 'published', topic: 'dev/#' });
    expect(acts[0]!.line).toBe(10);
  });

  it('durations need a unit', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration(2)).toBeNull();
    expect(parseDuration('2')).toBeNull();
    expect(parseDuration('2 sec')).toBeNull();
  });
});

describe('parseScenario: errors name the file, line and step', () => {
  const cases: { name: string; yaml: string; message: string }[] = [
    { name: 'not YAML', yaml: 'steps: [\n', message: 'test.yaml: not valid YAML: ' },
    { name: 'empty file', yaml: '', message: 'test.yaml: the file is empty; a scenario needs a steps list' },
    { name: 'no steps', yaml: 'name: x\n', message: 'test.yaml line 1: steps must be a non-empty list' },
    { name: 'unknown top-level key', yaml: 'step: []\n', message: 'test.yaml line 1: unknown key "step" (expected one of: name, description, modem, steps)' },
    {
      name: 'a bare number as a duration',
      yaml: 'steps:\n  - at: 2\n    do: drop\n',
      message: 'test.yaml line 2: step 1: at must be a duration such as 500ms, 2s or 1m, not number 2 — write 2s or 2ms',
    },
    { name: 'no trigger', yaml: 'steps:\n  - do: drop\n', message: 'test.yaml line 2: step 1: no trigger: give at: <duration>, every: <duration> or when: {…}' },
    {
      name: 'two triggers',
      yaml: 'steps:\n  - at: 1s\n    when: { urc: x }\n    do: drop\n',
      message: 'test.yaml line 2: step 1: give one trigger: at, every or when',
    },
    {
      name: 'times on an at step',
      yaml: 'steps:\n  - at: 1s\n    times: 2\n    do: drop\n',
      message: 'test.yaml line 3: step 1: times goes with every or when (an `at` step runs once)',
    },
    {
      name: 'a typo in a step key',
      yaml: 'steps:\n  - evry: 1s\n    do: drop\n',
      message: 'test.yaml line 2: step 1: unknown key "evry" (expected one of: name, modem, at, every, times, when, do)',
    },
    {
      name: 'nothing to do',
      yaml: 'steps:\n  - name: quiet\n    at: 1s\n',
      message: 'test.yaml line 2: step 1 "quiet" (at 1s): nothing to do: add do: <action> or a list of actions',
    },
    {
      name: 'an unknown action, in the second step',
      yaml: 'steps:\n  - at: 1s\n    do: drop\n  - every: 5s\n    do:\n      - wait: 1s\n      - explode: now\n',
      message: 'test.yaml line 7: step 2 (every 5s): unknown action "explode"',
    },
    {
      name: 'a bad value',
      yaml: 'steps:\n  - at: 1s\n    do:\n      - broker: dwon\n',
      message: 'test.yaml line 4: step 1 (at 1s), broker: broker must be down or up, not string "dwon"',
    },
    {
      name: 'an out-of-range CONNACK code',
      yaml: 'steps:\n  - at: 1s\n    do: { refuse-connect: 7 }\n',
      message: 'test.yaml line 3: step 1 (at 1s), refuse-connect: the CONNACK return code must be a whole number 1–5, not number 7',
    },
    {
      name: 'an out-of-range rssi',
      yaml: 'steps:\n  - at: 1s\n    do: { signal: 32 }\n',
      message: 'test.yaml line 3: step 1 (at 1s), signal: rssi must be 0–31 or 99, not 32',
    },
    {
      name: 'a value-less action that needs one',
      yaml: 'steps:\n  - at: 1s\n    do: [stall]\n',
      message: 'test.yaml line 3: step 1 (at 1s): "stall" needs a value (stall: …)',
    },
    {
      name: 'a value on drop',
      yaml: 'steps:\n  - at: 1s\n    do: [{ drop: 3 }]\n',
      message: 'test.yaml line 3: step 1 (at 1s), drop: takes no value (write "- drop")',
    },
    {
      name: 'a wildcard in a publish topic',
      yaml: 'steps:\n  - at: 1s\n    do:\n      publish: { topic: dev/+/down, payload: x }\n',
      message: 'test.yaml line 4: step 1 (at 1s), publish: "dev/+/down" is not a topic name (no wildcards)',
    },
    {
      name: 'two payloads',
      yaml: 'steps:\n  - at: 1s\n    do:\n      publish: { topic: a, payload: x, hex: "00" }\n',
      message: 'test.yaml line 4: step 1 (at 1s), publish: give one of payload, json, hex or file (not payload and hex)',
    },
    {
      name: 'a payload file that is not there',
      yaml: 'steps:\n  - at: 1s\n    do:\n      publish: { topic: a, file: /nonexistent/fw.bin }\n',
      message: 'test.yaml line 4: step 1 (at 1s), publish: cannot read /nonexistent/fw.bin (ENOENT)',
    },
    {
      name: 'a placeholder the trigger does not provide',
      yaml: 'steps:\n  - at: 1s\n    do:\n      publish: { topic: "dev/{{1}}/down", payload: x }\n',
      message: 'test.yaml line 4: step 1 (at 1s), publish: unknown placeholder {{1}} (this step has: {{modem}} {{index}} {{imei}} {{n}})',
    },
    {
      name: 'an unquoted placeholder at the start of a value',
      yaml: 'steps:\n  - at: 1s\n    do:\n      log: {{modem}}\n',
      message: 'test.yaml line 4: step 1 (at 1s), log: log must be text, not a mapping (a value that starts with {{ needs quotes: "{{…}}")',
    },
    {
      name: 'a bad topic filter',
      yaml: 'steps:\n  - when: { published: { topic: "dev/#/up" } }\n    do: drop\n',
      message: 'test.yaml line 2: step 1: "dev/#/up" is not an MQTT topic filter',
    },
    {
      name: 'a bad regular expression',
      yaml: 'steps:\n  - when: { urc: "(" }\n    do: drop\n',
      message: 'test.yaml line 2: step 1: bad regular expression: ',
    },
    {
      name: 'a bad modem reference',
      yaml: 'modem: [0, -1]\nsteps:\n  - at: 1s\n    do: drop\n',
      message: 'test.yaml line 1: modem must be all, an index (0, 1, …), a name or a list of them, not number -1',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(failure(c.yaml)).toContain(c.message);
    });
  }

  it('a missing file is one clear line', () => {
    expect(() => loadScenarioFile('/nonexistent/s.yaml')).toThrow('scenario /nonexistent/s.yaml: cannot read (ENOENT)');
  });
});

describe('parseScenario: the wifi action', () => {
  it('parses the short form (down/up, off/on) and the long form { ap?, rssi? }', () => {
    const s = parseScenario(
      [
        'steps:',
        '  - at: 1s',
        '    do:',
        '      - wifi: down',
        '      - wifi: up',
        '      - wifi: off',
        '      - wifi: { ap: down, rssi: -90 }',
        '      - wifi: { rssi: -60 }',
        '      - wifi: { ap: true }',
      ].join('\n'),
      { file: 'test.yaml' },
    );
    expect(s.steps[0]!.actions).toEqual([
      { op: 'wifi', ap: false, line: 4 },
      { op: 'wifi', ap: true, line: 5 },
      { op: 'wifi', ap: false, line: 6 },
      { op: 'wifi', ap: false, rssi: -90, line: 7 },
      { op: 'wifi', rssi: -60, line: 8 },
      { op: 'wifi', ap: true, line: 9 },
    ]);
  });

  it('refuses bad values with the file, line and step', () => {
    const at = (action: string) => `steps:\n  - at: 0s\n    do:\n      - ${action}\n`;
    expect(failure(at('wifi: gone'))).toBe('test.yaml line 4: step 1 (at 0s), wifi: wifi must be up or down or on or off, not string "gone"');
    expect(failure(at('wifi'))).toBe('test.yaml line 4: step 1 (at 0s): "wifi" needs a value (wifi: …)');
    expect(failure(at('wifi: {}'))).toBe('test.yaml line 4: step 1 (at 0s), wifi: wifi needs ap (down|up), rssi (dBm) or both');
    expect(failure(at('wifi: { rssi: 5 }'))).toBe('test.yaml line 4: step 1 (at 0s), wifi: rssi (dBm) must be a whole number -100–0, not number 5');
    expect(failure(at('wifi: { ap: maybe }'))).toMatch(/^test\.yaml line 4: step 1 \(at 0s\), wifi: ap must be up or down/);
    expect(failure(at('wifi: { ap: up, signal: -50 }'))).toBe('test.yaml line 4: step 1 (at 0s), wifi: unknown key "signal" (expected one of: ap, rssi)');
  });
});
