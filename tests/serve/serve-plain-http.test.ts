/** A console served without TLS beyond loopback says so at start: passwords and cookies would cross the LAN in clear. */
import { describe, expect, it } from "vitest";
import { plainHttpWarning } from "../../src/serve/serve-process.js";

describe("plantwire serve: plain HTTP beyond loopback", () => {
  it("warns for a LAN or wildcard address without TLS, naming serve.tls as the fix", () => {
    for (const host of ["0.0.0.0", "10.0.0.5", "::", "fe80::1", "console.plant.lan"]) {
      const warning = plainHttpWarning(host, false);
      expect(warning).toContain(`listening on ${host} without TLS`);
      expect(warning).toContain("serve.tls");
    }
  });

  it("is quiet on loopback and under TLS", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
      expect(plainHttpWarning(host, false)).toBeUndefined();
    expect(plainHttpWarning("10.0.0.5", true)).toBeUndefined();
  });
});
