/** The operating-system user of this process, as the audit, the device locks and the approvals name people. */
import { userInfo } from "node:os";

/** The user name, or "uid N" for a user with no passwd entry (a container user has a uid but no name). */
export function operatingSystemUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? "unknown"}`;
  }
}
