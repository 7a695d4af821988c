/**
 * unescapeBytes / escapeBytes (src/transcript/transcript.ts): the `>>` bytes of transcripts and
 * drive scripts. unescapeBytes encodes the text between escapes a run at a time.
 */
import { describe, expect, it } from 'vitest';
import { escapeBytes, TranscriptSyntaxError, unescapeBytes } from '../../src/transcript/transcript.js';

describe('unescapeBytes', () => {
  it('turns escapes into their bytes and text into its UTF-8, in order', () => {
    expect(unescapeBytes('{"a":1}').toString('latin1')).toBe('{"a":1}');
    expect(unescapeBytes('ab\\r\\ncd\\t\\\\e\\x1a').toString('latin1')).toBe('ab\r\ncd\t\\e\x1a');
    expect(unescapeBytes('\\x00\\xffé中').toString('hex')).toBe('00ff' + Buffer.from('é中', 'utf8').toString('hex'));
    expect(unescapeBytes('')).toEqual(Buffer.alloc(0));
  });

  it('undoes escapeBytes for every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(unescapeBytes(escapeBytes(all))).toEqual(all);
    expect(unescapeBytes(escapeBytes(Buffer.from(' AT+X="a b" \r\n')))).toEqual(Buffer.from(' AT+X="a b" \r\n'));
  });

  it('refuses unknown and malformed escapes', () => {
    expect(() => unescapeBytes('a\\q')).toThrow(TranscriptSyntaxError);
    expect(() => unescapeBytes('a\\xg1')).toThrow(TranscriptSyntaxError);
    expect(() => unescapeBytes('a\\x1')).toThrow(TranscriptSyntaxError);
    expect(() => unescapeBytes('a\\')).toThrow(TranscriptSyntaxError);
  });
});
