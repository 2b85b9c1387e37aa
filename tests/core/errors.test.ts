import {
  ConfigError,
  ConnectionError,
  DataQualityError,
  MissingDependencyError,
  PlantwireError,
  ProtocolError,
  TimeoutError,
  UnsupportedError,
  ValidationError,
} from "plantwire";
import { describe, expect, it, vi } from "vitest";

/** Simulates an error thrown by another installed copy of plantwire: same shape, different class objects. */
async function errorFromAnotherCopy(): Promise<unknown> {
  vi.resetModules();
  const copy = await import("../../src/errors.js");
  expect(copy.TimeoutError).not.toBe(TimeoutError);
  return new copy.TimeoutError("read of pump7 timed out", 2000, { cause: new Error("socket idle") });
}

describe("errors", () => {
  it("carry a stable code, a cause and a name", () => {
    const cause = new Error("ECONNRESET");
    const error = new ConnectionError('adapter "drive": connection reset', { cause });
    expect(error.code).toBe("PW_CONNECTION");
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("ConnectionError");
    expect(error).toBeInstanceOf(Error);
  });

  it("are recognised by isInstance across duplicate installs, where instanceof fails", async () => {
    const foreign = await errorFromAnotherCopy();
    expect(foreign instanceof TimeoutError).toBe(false);
    expect(TimeoutError.isInstance(foreign)).toBe(true);
    expect(PlantwireError.isInstance(foreign)).toBe(true);
    expect(ConnectionError.isInstance(foreign)).toBe(false);
  });

  it("distinguish every subclass by isInstance", () => {
    const samples: [PlantwireError, string][] = [
      [new ConfigError([{ path: "tags.a.range", message: "bad", fix: "fix it" }]), "PW_CONFIG"],
      [new MissingDependencyError("modbus-serial", "The Modbus adapter"), "PW_MISSING_DEPENDENCY"],
      [new ConnectionError("x"), "PW_CONNECTION"],
      [new TimeoutError("x", 10), "PW_TIMEOUT"],
      [new ProtocolError("x"), "PW_PROTOCOL"],
      [new ValidationError("x", { field: "speed" }), "PW_VALIDATION"],
      [new UnsupportedError("x"), "PW_UNSUPPORTED"],
      [new DataQualityError("speed", "x"), "PW_DATA_QUALITY"],
    ];
    const classes = [
      ConfigError,
      MissingDependencyError,
      ConnectionError,
      TimeoutError,
      ProtocolError,
      ValidationError,
      UnsupportedError,
      DataQualityError,
    ];
    samples.forEach(([error, code], index) => {
      expect(error.code).toBe(code);
      for (const [classIndex, errorClass] of classes.entries()) {
        expect(errorClass.isInstance(error)).toBe(classIndex === index);
      }
    });
    expect(PlantwireError.isInstance(new Error("plain"))).toBe(false);
    expect(PlantwireError.isInstance(null)).toBe(false);
  });

  it("say how to install a missing peer", () => {
    expect(new MissingDependencyError("node-opcua", "The OPC UA adapter").message).toContain("npm i node-opcua");
  });

  it("list every config issue with its field and fix", () => {
    const error = new ConfigError(
      [
        { path: "tags.speed.range", message: "low must be smaller than high", fix: "swap them" },
        { path: "tags.mode.states", message: "two states share one code", fix: "give each its own code" },
      ],
      { file: "site.yaml" },
    );
    expect(error.message).toContain("site.yaml");
    expect(error.message).toContain("tags.speed.range: low must be smaller than high. Fix: swap them");
    expect(error.message).toContain("tags.mode.states");
    expect(error.issues).toHaveLength(2);
  });
});
