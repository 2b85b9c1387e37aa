/** What node-opcua prints by itself (issue 16), for the tests that check it never reaches a user who did not ask. */

/** Lines node-opcua prints by itself: none may reach stdout or stderr unless debug output was asked for. */
export const libraryNoise: readonly RegExp[] = [
  /NODE-OPCUA-[EW]\d+/,
  /security-revert=CVE-2023-46809/,
  /serverCertificate =/,
  /read_operational_limits/,
  /Invalid Sequence Number/,
  // node-opcua's own line format: "15:14:40.021Z :client_base_impl   :1759  …"
  /^\d\d:\d\d:\d\d\.\d{3}Z :\S+\s+:\d+/m,
  // a certificate dumped in base64
  /MII[A-Za-z0-9+/]{60}/,
];

/** The noise patterns found in `text` (empty when it is clean), so that a failure shows which ones. */
export function noiseIn(text: string): string[] {
  return libraryNoise.filter((pattern) => pattern.test(text)).map(String);
}
