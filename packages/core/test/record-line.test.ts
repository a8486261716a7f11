import { describe, expect, it } from 'vitest';
import { makeRecord, parseRecord, serializeRecord, recordJson, kindOf, type RollupRecord } from '../src/log.js';
import { formatRecordLine, parseRecordLine } from '../src/record-line.js';
import { isZenrollError } from '../src/errors.js';

const base = { time: '2026-11-22T10:30:05.123Z', id: '6f1c2d3e-0000-4000-8000-000000000001' };

describe('record v2 line (SPEC §7)', () => {
  it('writes the example of SPEC §7 exactly', () => {
    const r = makeRecord({
      ...base,
      source: 'sender',
      event: 'sent',
      server: 'LEAF1',
      from: 'LEAF1',
      to: 'INT1',
      origin: 'LEAF1',
      zip: '20261122103000000_LEAF1_ACME_0.zip',
      files: 50,
      bytes: 1234567,
      transferMs: 456,
      totalMs: 789,
    });
    expect(serializeRecord(r)).toBe(
      '2026-11-22T10:30:05.123Z sent LEAF1>INT1 20261122103000000_LEAF1_ACME_0.zip files=50 bytes=1234567 transferMs=456 totalMs=789 ' +
        'origin=LEAF1 source=sender severity=info id=6f1c2d3e-0000-4000-8000-000000000001 v=2',
    );
  });

  it('starts with time, event and hop, so that 40 characters say when, what and where', () => {
    const line = serializeRecord(
      makeRecord({
        ...base,
        source: 'receiver',
        event: 'received',
        server: 'ROOT',
        from: 'INT1',
        to: 'ROOT',
        origin: 'LEAF1',
        zip: 'z.zip',
      }),
    );
    expect(line.slice(0, 40)).toBe('2026-11-22T10:30:05.123Z received INT1>R');
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z received INT1>ROOT z\.zip origin=LEAF1 source=receiver /);
  });

  const cases: [string, Partial<RollupRecord>][] = [
    ['no hop, no zip', { from: '', to: '', zip: '' }],
    ['only a sender', { from: 'LEAF1', to: '' }],
    ['only a receiver', { from: '', to: 'ROOT' }],
    ['names that need encoding', { from: 'LE_AF é', to: 'IN>T', origin: 'a b"c', zip: '' }],
    ['a server named "-"', { from: '-', to: '-', origin: '-' }],
    ['a zip named "-"', { zip: '-' }],
    ['a zip name with a space, a quote and "="', { zip: 'a b"=c.zip' }],
    ['a message with quotes, backslashes, newlines and U+2028', { message: 'say "hi"\\ \n\t\u2028 end é' }],
    [
      'extra fields: numbers, words, texts with spaces, number-like texts',
      {
        event: 'rollup',
        fields: { zipped: 3, sent: 2, discarded: 0, rejected: 1, left: 5, schedule: '0 2 * * *', version: '0.1.0', code: '42', empty: '' },
      },
    ],
    ['a status record', { event: 'started', source: 'service', fields: { role: 'leaf' } }],
    ['every number zero', { files: 0, bytes: 0, transferMs: 0, totalMs: 0 }],
  ];
  it.each(cases)('round-trips: %s', (_name, fields) => {
    const r = makeRecord({
      ...base,
      source: 'sender',
      event: 'sent',
      server: 'LEAF1',
      from: 'LEAF1',
      to: 'INT1',
      files: 3,
      bytes: 9,
      ...fields,
    });
    const line = serializeRecord(r);
    expect(line).not.toMatch(/[\n\r\u2028\u2029]/);
    expect(parseRecord(line, 'LEAF1')).toEqual(r);
    expect(serializeRecord(parseRecord(line, 'LEAF1'))).toBe(line);
  });

  it('the status events go to the status log, the rest to the roll-up log', () => {
    expect(['started', 'stopped', 'problem', 'lock-taken', 'wake-up'].map((e) => kindOf(e as never))).toEqual(Array(5).fill('status'));
    expect(['sent', 'rollup', 'send-failing', 'send-recovered'].map((e) => kindOf(e as never))).toEqual(Array(4).fill('rollup'));
  });

  it('reads a v1 record and writes it back to its exact text', () => {
    const v1 =
      '{"v":1,"id":"a1","time":"2026-11-22T10:30:05.123Z","source":"sender","event":"zipped","severity":"info","server":"LEAF1",' +
      '"zip":"20261122103000000_LEAF1_ACME_0.zip","bytes":10,"files":2,"from":"LEAF1","to":"","transferMs":0,"totalMs":5,"message":""}';
    const r = parseRecord(v1);
    expect(r).toMatchObject({ v: 1, id: 'a1', server: 'LEAF1', event: 'zipped', files: 2, origin: '', fields: {} });
    expect(serializeRecord(r)).toBe(v1);
    expect(recordJson(r)).toMatchObject({ v: 1, event: 'zipped', from: 'LEAF1', msg: '' });
  });

  it('gives --json the fields of the line, in its order', () => {
    const r = makeRecord({
      ...base,
      source: 'sender',
      event: 'rollup',
      server: 'LEAF1',
      from: 'LEAF1',
      to: 'INT1',
      totalMs: 7,
      fields: { zipped: 1 },
      message: 'm',
    });
    expect(Object.keys(recordJson(r))).toEqual([
      'time',
      'event',
      'server',
      'from',
      'to',
      'zip',
      'files',
      'bytes',
      'transferMs',
      'totalMs',
      'zipped',
      'origin',
      'source',
      'severity',
      'id',
      'v',
      'msg',
    ]);
  });

  const ok = '2026-11-22T10:30:05.123Z sent LEAF1>INT1 z.zip files=1 source=sender severity=info id=x v=2';
  const invalid: [string, string, RegExp][] = [
    ['empty', '', /does not start with time, event, hop and zip/],
    ['a bad time', ok.replace('10:30:05.123Z', '10:30:05Z'), /not a time such as/],
    ['a time that is no date', ok.replace('2026-11-22', '2026-13-45'), /which is no date/],
    ['an unknown event', ok.replace(' sent ', ' exploded '), /event "exploded", which zenroll does not write/],
    ['an upper-case event', ok.replace(' sent ', ' Sent '), /not a lower-case word/],
    ['two ">" in the hop', ok.replace('LEAF1>INT1', 'A>B>C'), /more than one ">"/],
    ['a hop with nothing after ">"', ok.replace('LEAF1>INT1', 'LEAF1>'), /no server after ">"/],
    ['a hop name that is not encoded', ok.replace('LEAF1>INT1', 'LE_AF1>INT1'), /not a server name encoded as in zip names/],
    ['two spaces', ok.replace(' z.zip', '  z.zip'), /two spaces in a row/],
    ['a trailing space', `${ok} `, /ends with a space/],
    ['a line break', ok.replace(' v=2', '\nv=2'), /line break/],
    ['no zip', '2026-11-22T10:30:05.123Z sent LEAF1>INT1 source=sender', /does not start with time, event, hop and zip/],
    ['a word where a pair belongs', ok.replace(' files=1', ' files'), /where a key=value pair belongs/],
    ['a key twice', ok.replace(' files=1', ' files=1 files=2'), /the key files twice/],
    ['a number that is not whole', ok.replace('files=1', 'files=1.5'), /files="1.5", not a whole number/],
    ['a negative number', ok.replace('files=1', 'files=-1'), /not a whole number/],
    ['a bare value with a quote', ok.replace('id=x', 'id=x"y'), /must be a JSON string|not a JSON string|never ends/],
    ['a quoted value that never ends', ok.replace('id=x', 'id="x'), /never ends/],
    ['text glued to a quoted value', ok.replace('id=x', 'id="x"y'), /no space after the value/],
    ['a bad escape', ok.replace('id=x', 'id="\\q"'), /not a JSON string/],
    ['another version', ok.replace('v=2', 'v=3'), /v="3"; this reader knows v=2/],
    ['no version', ok.replace(' v=2', ''), /lacks v=/],
    ['no source', ok.replace(' source=sender', ''), /lacks source=/],
    ['an unknown source', ok.replace('source=sender', 'source=robot'), /not sender, receiver or service/],
    ['an unknown severity', ok.replace('severity=info', 'severity=fatal'), /not info, warning or error/],
    ['a bare msg', `${ok} msg=hello`, /msg that is not a JSON string/],
    ['pairs after msg', ok.replace(' v=2', ' msg="x" v=2'), /after msg, which comes last/],
    ['a key that is not a word', ok.replace('files=1', 'fi-les=1'), /key "fi-les", not a word/],
    ['v1 JSON that is no record', '{"v":1}', /not a zenroll v1 record/],
    ['v1 that is not JSON', '{"v":1', /is not JSON/],
    ['neither form', 'hello', /does not start with time, event, hop and zip/],
  ];
  it.each(invalid)('refuses %s', (_name, line, message) => {
    let caught: unknown;
    try {
      parseRecord(line, 'LEAF1');
    } catch (err) {
      caught = err;
    }
    expect(isZenrollError(caught, 'RECORD_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(message);
  });

  it('refuses to write what it could not read back', () => {
    const r = makeRecord({ ...base, source: 'sender', event: 'sent', server: 'L' });
    expect(() => formatRecordLine({ ...r, time: 'yesterday' })).toThrow(/not an ISO time/);
    expect(() => formatRecordLine({ ...r, fields: { files: 2 } })).toThrow(/not a free key=value name/);
    expect(() => formatRecordLine({ ...r, fields: { 'a b': 2 } })).toThrow(/not a free key=value name/);
    expect(parseRecordLine(formatRecordLine(r)).id).toBe(base.id);
  });
});
