/**
 * Issue 15, item 8: nothing invisible survives into a model's context or onto a terminal — every control, format and
 * default-ignorable code point, found by walking the whole code space against Unicode properties (an independent
 * check of the same property-derived class), not a hand list — and every look-alike of the fence characters is mapped.
 */
import { describe, expect, it } from "vitest";
import { terminalSafe } from "../../src/cli/terminal-text.js";
import { quoteUntrusted, UNTRUSTED_CLOSE, UNTRUSTED_OPEN } from "../../src/context/context-text.js";

const hidden = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]$/u;

function invisibleCodePoints(): number[] {
  const found: number[] = [];
  for (let code = 0; code <= 0x10ffff; code++) {
    if (code >= 0xd800 && code <= 0xdfff) continue;
    if (hidden.test(String.fromCodePoint(code))) found.push(code);
  }
  return found;
}

describe("invisible characters", () => {
  const all = invisibleCodePoints();

  it("covers the code points a hand list missed", () => {
    // Soft hyphen, combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian selectors, variation
    // selectors (both blocks), musical symbol formatting, the halfwidth Hangul filler.
    for (const code of [0xad, 0x34f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b, 0x180e, 0x180f, 0x3164, 0xfe00, 0xfe0f]) {
      expect(all).toContain(code);
    }
    for (const code of [0xffa0, 0xe0100, 0xe01ef, 0x1d173, 0x1d17a, 0xe0001, 0xe007f]) expect(all).toContain(code);
    expect(all.length).toBeGreaterThan(4000);
  });

  it("none reaches the model's context, alone or in runs", () => {
    const survivors = all.filter((code) => {
      const quoted = quoteUntrusted(`a${String.fromCodePoint(code)}b`, 100);
      return [...quoted].some((character) => hidden.test(character));
    });
    expect(survivors.map((code) => code.toString(16))).toEqual([]);
    const run = all
      .slice(0, 500)
      .map((code) => String.fromCodePoint(code))
      .join("");
    expect(quoteUntrusted(`pump${run}ok`, 100)).toBe(`${UNTRUSTED_OPEN}pump ok${UNTRUSTED_CLOSE}`);
  });

  it("none reaches a terminal unescaped", () => {
    const survivors = all.filter((code) =>
      [...terminalSafe(`a${String.fromCodePoint(code)}b`)].some((c) => hidden.test(c)),
    );
    expect(survivors.map((code) => code.toString(16))).toEqual([]);
  });

  it("maps every look-alike of the fence characters, so a string cannot close its fence", () => {
    const lookalikes = "«»≪≫《》⟪⟫❮❯⪡⪢⫷⫸︽︾⦅⦆｟｠";
    const quoted = quoteUntrusted(`x${lookalikes}y`, 100);
    const inner = quoted.slice(1, -1);
    expect(quoted.startsWith(UNTRUSTED_OPEN) && quoted.endsWith(UNTRUSTED_CLOSE)).toBe(true);
    for (const character of lookalikes) expect(inner).not.toContain(character);
    expect(inner).toBe(`x${"‹›".repeat(lookalikes.length / 2)}y`);
  });
});
