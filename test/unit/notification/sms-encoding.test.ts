import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  analyzeSms,
  gsmSeptets,
  isGsm7,
  segmentSms,
  SMS_LIMITS,
} from '../../../src/domain/notification/sms-encoding.js';

const a = (n: number) => 'a'.repeat(n);

describe('analyzeSms: GSM-7', () => {
  it('fits 160 septets in one part', () => {
    expect(analyzeSms(a(160))).toEqual({ encoding: 'GSM-7', parts: 1, charactersPerPart: 160, length: 160 });
  });

  it('splits 161 septets into two parts of at most 153', () => {
    expect(analyzeSms(a(161))).toEqual({ encoding: 'GSM-7', parts: 2, charactersPerPart: 153, length: 161 });
    expect(segmentSms(a(161)).map((p) => p.length)).toEqual([153, 8]);
  });

  it('fits exactly 2 x 153 septets in two parts, and one more in three', () => {
    expect(analyzeSms(a(306)).parts).toBe(2);
    expect(analyzeSms(a(307)).parts).toBe(3);
    expect(analyzeSms(a(153 * 3)).parts).toBe(3);
  });

  it('treats an empty text as zero parts', () => {
    expect(analyzeSms('')).toEqual({ encoding: 'GSM-7', parts: 0, charactersPerPart: 160, length: 0 });
  });

  it('counts every extension character as two septets', () => {
    const extension = '€^{}[]~\\|\f';
    expect(isGsm7(extension)).toBe(true);
    expect(analyzeSms(extension)).toMatchObject({ encoding: 'GSM-7', length: 20, parts: 1 });
  });

  it('puts 80 euro signs (160 septets) in one part and 81 in two', () => {
    expect(analyzeSms('€'.repeat(80))).toMatchObject({ encoding: 'GSM-7', length: 160, parts: 1 });
    expect(analyzeSms('€'.repeat(81))).toMatchObject({
      encoding: 'GSM-7',
      length: 162,
      parts: 2,
      charactersPerPart: 153,
    });
  });

  it('stays GSM-7 for a price in euros, and the € costs two septets', () => {
    const text = 'Studio Zen: Payment of €45.00 received for reservation R-42. Thank you.';
    expect(analyzeSms(text)).toEqual({ encoding: 'GSM-7', parts: 1, charactersPerPart: 160, length: text.length + 1 });
  });

  it('never splits an extension character across parts', () => {
    // 152 + 2 = 154 > 153: the € opens part two, which then also fills up, leaving one septet for part three.
    const text = a(152) + '€' + a(152);
    expect(analyzeSms(text).length).toBe(306);
    expect(analyzeSms(text).parts).toBe(3); // a naive ceil(306 / 153) would say 2
    expect(segmentSms(text)).toEqual([a(152), '€' + a(151), 'a']);
  });

  it('fills a part exactly when the extension character fits', () => {
    const text = a(151) + '€' + a(10);
    expect(segmentSms(text)).toEqual([a(151) + '€', a(10)]);
  });

  it('has é, ü, ö, Ä, Ñ, ß, Ç in the basic set (one septet each)', () => {
    const text = 'Café Müller öffnet, Ärger, Niño, Straße, Ça';
    expect(analyzeSms(text)).toMatchObject({ encoding: 'GSM-7', length: [...text].length });
    for (const char of 'éüöÄÑßÇ') expect(gsmSeptets(char)).toBe(1);
  });

  it('counts the whole basic alphabet at one septet per character', () => {
    const basic =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    expect([...basic]).toHaveLength(127);
    expect(analyzeSms(basic)).toMatchObject({ encoding: 'GSM-7', length: 127, parts: 1 });
  });

  it('does not take the ESC code itself, lower-case ç or á as GSM-7', () => {
    expect(isGsm7('\u001b')).toBe(false);
    expect(isGsm7('ç')).toBe(false);
    expect(isGsm7('á')).toBe(false);
  });
});

describe('analyzeSms: UCS-2', () => {
  it('switches a Czech text with diacritics to UCS-2', () => {
    const text = 'Dobrý den, vaše rezervace je potvrzena: pátek 14. 3. v 10:30, Studio Vinohrady. Těšíme se na vás!';
    const result = analyzeSms(text);
    expect(result.encoding).toBe('UCS-2');
    expect(result.length).toBe(text.length);
    expect(result.parts).toBe(2);
    expect(result.charactersPerPart).toBe(67);
  });

  it('switches for any one character outside GSM-7', () => {
    expect(analyzeSms(a(100) + 'ř')).toMatchObject({ encoding: 'UCS-2', length: 101, parts: 2 });
  });

  it('fits 70 units in one part and 71 in two', () => {
    expect(analyzeSms('č'.repeat(70))).toEqual({ encoding: 'UCS-2', parts: 1, charactersPerPart: 70, length: 70 });
    expect(analyzeSms('č'.repeat(71))).toEqual({ encoding: 'UCS-2', parts: 2, charactersPerPart: 67, length: 71 });
  });

  it('fits 2 x 67 units in two parts and one more in three', () => {
    expect(analyzeSms('ě'.repeat(134)).parts).toBe(2);
    expect(analyzeSms('ě'.repeat(135)).parts).toBe(3);
  });

  it('counts an emoji as two UTF-16 units', () => {
    expect(analyzeSms('😀'.repeat(35))).toMatchObject({ encoding: 'UCS-2', length: 70, parts: 1 });
    expect(analyzeSms('😀'.repeat(36))).toMatchObject({ encoding: 'UCS-2', length: 72, parts: 2 });
  });

  it('never splits a surrogate pair across parts', () => {
    // é alone would be GSM-7; the emoji makes the whole text UCS-2.
    const text = 'é'.repeat(66) + '😀' + 'é'.repeat(66);
    expect(analyzeSms(text)).toMatchObject({ encoding: 'UCS-2', length: 134 });
    expect(analyzeSms(text).parts).toBe(3); // a naive ceil(134 / 67) would say 2
    const parts = segmentSms(text);
    expect(parts).toEqual(['é'.repeat(66), '😀' + 'é'.repeat(65), 'é']);
    for (const part of parts) expect(part).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
  });
});

describe('segmentSms (properties)', () => {
  const gsmChar = fc.constantFrom(...'abcXYZ 019.,!?@£é€^{}[]~\\|\n');
  const anyChar = fc.constantFrom(...'abc ěščřžýáíé€{😀👍🏽'.split(/(?:)/u));

  function unitCost(char: string, encoding: 'GSM-7' | 'UCS-2'): number {
    return encoding === 'GSM-7' ? (gsmSeptets(char) ?? 0) : char.length;
  }

  it.each([
    ['GSM-7 texts', fc.array(gsmChar, { maxLength: 700 })],
    ['mixed texts', fc.array(anyChar, { maxLength: 400 })],
  ])('for %s: parts join back to the text, respect the limits and match the count', (_name, chars) => {
    fc.assert(
      fc.property(chars, (list) => {
        const text = list.join('');
        const analysis = analyzeSms(text);
        const parts = segmentSms(text);
        expect(parts.join('')).toBe(text);
        expect(parts.length).toBe(analysis.parts);
        const limits = SMS_LIMITS[analysis.encoding];
        const limit = parts.length > 1 ? limits.multi : limits.single;
        for (const part of parts) {
          const cost = [...part].reduce((sum, c) => sum + unitCost(c, analysis.encoding), 0);
          expect(cost).toBeLessThanOrEqual(limit);
          expect(part.length).toBeGreaterThan(0);
        }
        // No part could have taken the first character of the next one.
        for (let i = 0; i + 1 < parts.length; i++) {
          const used = [...(parts[i] ?? '')].reduce((sum, c) => sum + unitCost(c, analysis.encoding), 0);
          const [next] = [...(parts[i + 1] ?? '')];
          expect(used + unitCost(next ?? '', analysis.encoding)).toBeGreaterThan(limit);
        }
      }),
      { numRuns: 300 },
    );
  });
});
