/**
 * Changes to a users file: add a person, set a password, remove a person (and their tokens), make or revoke API
 * tokens. Each returns a new file content; `plantwire users` writes it with `writeUsersFile()`. Programs (the console
 * demo, tests) can call `addUserToFile()` directly.
 */
import { ValidationError } from "../../errors.js";
import { newApiToken, type StoredToken } from "./api-tokens.js";
import { type Role, roles } from "./auth-types.js";
import { hashPassword, passwordProblem, type ScryptParameters } from "./password-hash.js";
import { findUser, type UsersFile, userNamePattern } from "./users-file.js";
import { updateUsersFile } from "./users-file-lock.js";

/** A refused change, naming the field and the fix. */
function refused(field: string, message: string, fix: string): ValidationError {
  return new ValidationError(`${message}. Fix: ${fix}.`, { field });
}

function checkedPassword(password: string, user: string): string {
  const problem = passwordProblem(password, user);
  if (problem) throw refused("password", problem, "choose another password");
  return password;
}

/** Options of `addUser()`. */
export interface NewUser {
  readonly name: string;
  readonly role: Role;
  readonly password: string;
  /** scrypt's cost; tests lower it. @default defaultScryptParameters */
  readonly scrypt?: ScryptParameters;
}

/** Adds a person; refuses a taken name, a bad name or role, or a short password. */
export async function addUser(content: UsersFile, user: NewUser, now = new Date()): Promise<UsersFile> {
  if (!userNamePattern.test(user.name)) {
    throw refused(
      "name",
      `"${user.name}" is not a valid user name`,
      "use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
    );
  }
  if (!roles.includes(user.role))
    throw refused("role", `unknown role "${user.role}"`, `use one of ${roles.join(", ")}`);
  if (content.users.some((existing) => existing.name.toLowerCase() === user.name.toLowerCase())) {
    throw refused(
      "name",
      `there is already a user "${user.name}"`,
      `choose another name, or change the password with: plantwire users passwd ${user.name}`,
    );
  }
  const password = await hashPassword(checkedPassword(user.password, user.name), user.scrypt);
  const record = { name: user.name, role: user.role, password, created: now.toISOString() };
  return { ...content, users: [...content.users, record] };
}

function missingUser(name: string): ValidationError {
  return refused("name", `there is no user "${name}"`, "run `plantwire users list` to see the users");
}

/** Sets a person's password (their console sessions end when `serve` sees the change). */
export async function setPassword(
  content: UsersFile,
  name: string,
  password: string,
  options: { scrypt?: ScryptParameters; now?: Date } = {},
): Promise<UsersFile> {
  if (!findUser(content, name)) throw missingUser(name);
  const hash = await hashPassword(checkedPassword(password, name), options.scrypt);
  const changed = (options.now ?? new Date()).toISOString();
  return {
    ...content,
    users: content.users.map((user) =>
      user.name === name ? { ...user, password: hash, passwordChanged: changed } : user,
    ),
  };
}

/** Removes a person and every token of theirs. */
export function removeUser(content: UsersFile, name: string): UsersFile {
  if (!findUser(content, name)) throw missingUser(name);
  return {
    ...content,
    users: content.users.filter((user) => user.name !== name),
    tokens: content.tokens.filter((token) => token.user !== name),
  };
}

/** Makes an API token for a person; returns the secret (show it once) with the new content. */
export function addToken(
  content: UsersFile,
  name: string,
  label?: string,
  now = new Date(),
): { content: UsersFile; token: string; stored: StoredToken } {
  if (!findUser(content, name)) throw missingUser(name);
  const { token, stored } = newApiToken(name, now, label);
  return { content: { ...content, tokens: [...content.tokens, stored] }, token, stored };
}

/** Revokes a person's tokens: the one with `id`, or all of them. Returns the new content and how many went. */
export function revokeTokens(content: UsersFile, name: string, id?: string): { content: UsersFile; revoked: number } {
  if (!findUser(content, name)) throw missingUser(name);
  const gone = (token: StoredToken) => token.user === name && (id === undefined || token.id === id);
  const revoked = content.tokens.filter(gone).length;
  if (id !== undefined && revoked === 0) {
    throw refused("id", `${name} has no token with id ${id}`, "run `plantwire users list` to see the token ids");
  }
  return { content: { ...content, tokens: content.tokens.filter((token) => !gone(token)) }, revoked };
}

/** Adds a person to a users file (created with mode 600 when missing). */
export async function addUserToFile(file: string, user: NewUser): Promise<void> {
  await updateUsersFile(file, async (content) => ({ content: await addUser(content, user) }), { allowMissing: true });
}

/** Changes a person's role (their console sessions end when `serve` sees the change). */
export function setRole(content: UsersFile, name: string, role: Role): UsersFile {
  if (!findUser(content, name)) throw missingUser(name);
  if (!roles.includes(role)) throw refused("role", `unknown role "${role}"`, `use one of ${roles.join(", ")}`);
  return { ...content, users: content.users.map((user) => (user.name === name ? { ...user, role } : user)) };
}
