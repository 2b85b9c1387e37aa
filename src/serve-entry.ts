/**
 * plantwire/serve: `plantwire serve` embedded in a program of its own. `startServe()` runs a site (its adapters, its
 * one guard and audit, its loops) and serves the operator console, the JSON API, `/metrics` and `/healthz`, exactly as
 * the CLI does; `createServeAuth()` is its login, session and token layer for a server of your own; the users-file
 * helpers add people and tokens as `plantwire users` does. The shapes of the JSON API's answers come with it.
 * Importing this module loads no protocol library: a site loads the adapters it names when it starts.
 */
export type {
  AdapterView,
  ApiError,
  AuditPage,
  AuditView,
  HealthView,
  LoopView,
  ProposalsView,
  ProposalView,
  ReloadResult,
  SampleView,
  ServeDiscovery,
  SiteIssue,
  SiteView,
  SnapshotView,
  TagView,
} from "./serve/api-types.js";
export type { StoredToken } from "./serve/auth/api-tokens.js";
export {
  minimumPasswordLength,
  type PasswordHash,
  type ScryptParameters,
} from "./serve/auth/password-hash.js";
export {
  type AuthAuditEvent,
  createServeAuth,
  type Permission,
  type Person,
  type PersonOfOptions,
  type Role,
  rolePermissions,
  roles,
  type ServeAuth,
  type ServeAuthOptions,
} from "./serve/auth/serve-auth.js";
export {
  addToken,
  addUser,
  addUserToFile,
  type NewUser,
  removeUser,
  revokeTokens,
  setPassword,
  setRole,
} from "./serve/auth/users-changes.js";
export {
  emptyUsersFile,
  readUsersFile,
  readUsersFileOrEmpty,
  type UserRecord,
  type UsersFile,
  writeUsersFile,
} from "./serve/auth/users-file.js";
export { updateUsersFile } from "./serve/auth/users-file-lock.js";
export { parseListen, type RunningServe, type ServeOptions, startServe } from "./serve/serve-process.js";
