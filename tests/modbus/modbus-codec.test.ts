import fc from "fast-check";
import { decodeRegisters, encodeRegisters, type ModbusDataType, wordOrders } from "plantwire/modbus";
import { describe, expect, it } from "vitest";

const integerBounds: Record<string, [bigint, bigint]> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

describe("modbus codec", () => {
  for (const [type, [low, high]] of Object.entries(integerBounds)) {
    it(`round-trips ${type} in every word order, limits included`, () => {
      const wide = type.endsWith("64");
      const values = fc.oneof(fc.constantFrom(low, high, 0n, low + 1n, high - 1n), fc.bigInt({ min: low, max: high }));
      fc.assert(
        fc.property(values, fc.constantFrom(...wordOrders), (value, order) => {
          const input = wide ? value : Number(value);
          const decoded = decodeRegisters(
            encodeRegisters(input, type as ModbusDataType, order),
            0,
            type as ModbusDataType,
            order,
          );
          expect(decoded).toStrictEqual(input);
        }),
      );
    });
    it(`refuses ${type} values out of range or not whole`, () => {
      const wide = type.endsWith("64");
      expect(() => encodeRegisters(wide ? high + 1n : Number(high + 1n), type as ModbusDataType)).toThrow(RangeError);
      expect(() => encodeRegisters(wide ? low - 1n : Number(low - 1n), type as ModbusDataType)).toThrow(RangeError);
      expect(() => encodeRegisters(1.5, type as ModbusDataType)).toThrow(RangeError);
    });
  }

  it("round-trips float32 exactly for every float32 value (NaN-free) in every order", () => {
    const edges = [
      0, -0, 1, -1, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38,
    ];
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edges), fc.float({ noNaN: true, noDefaultInfinity: true })),
        fc.constantFrom(...wordOrders),
        (value, order) => {
          const decoded = decodeRegisters(encodeRegisters(value, "float32", order), 0, "float32", order);
          expect(Object.is(decoded, value)).toBe(true);
        },
      ),
    );
  });

  it("round-trips float64 exactly (NaN-free) in every order", () => {
    const edges = [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, -0];
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edges), fc.double({ noNaN: true, noDefaultInfinity: true })),
        fc.constantFrom(...wordOrders),
        (value, order) => {
          expect(Object.is(decodeRegisters(encodeRegisters(value, "float64", order), 0, "float64", order), value)).toBe(
            true,
          );
        },
      ),
    );
  });

  it("round-trips Latin-1 strings over N registers in every order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.constantFrom(...wordOrders),
        fc.string({
          unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
          maxLength: 32,
        }),
        (registers, order, text) => {
          const value = text.slice(0, registers * 2);
          const decoded = decodeRegisters(
            encodeRegisters(value, "string", order, registers),
            0,
            "string",
            order,
            registers,
          );
          expect(decoded).toBe(value);
        },
      ),
    );
  });

  it("lays bytes out as the word-order names say (worked example from the docs)", () => {
    // 0x41200000 is 10.0 as float32: bytes A=41 B=20 C=00 D=00.
    expect(encodeRegisters(10, "float32", "ABCD").toString("hex")).toBe("41200000");
    expect(encodeRegisters(10, "float32", "CDAB").toString("hex")).toBe("00004120");
    expect(encodeRegisters(10, "float32", "BADC").toString("hex")).toBe("20410000");
    expect(encodeRegisters(10, "float32", "DCBA").toString("hex")).toBe("00002041");
    expect(encodeRegisters(0x0102030405060708n, "uint64", "CDAB").toString("hex")).toBe("0708050603040102");
    expect(encodeRegisters(0x1234, "uint16", "BADC").toString("hex")).toBe("3412");
    expect(encodeRegisters("AB", "string", "BADC").toString("hex")).toBe("4241");
  });

  it("throws a RangeError, never crashes, on short or random bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 10 }),
        fc.constantFrom<ModbusDataType>("int16", "uint32", "int64", "float64", "string"),
        fc.integer({ min: 0, max: 6 }),
        (bytes, type, register) => {
          try {
            decodeRegisters(Buffer.from(bytes), register, type, "ABCD", 3);
          } catch (error) {
            expect(error).toBeInstanceOf(RangeError);
          }
        },
      ),
    );
  });
});
