/**
 * The users file on its own: written with mode 600 and atomically, changes made at once all kept, a file others can
 * read refused, and every problem in a malformed file named by its field.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, ValidationError } from "plantwire";
import { afterAll, describe, expect, it } from "vitest";
import { newApiToken } from "../../src/serve/auth/api-tokens.js";
import { verifyPassword } from "../../src/serve/auth/password-hash.js";
import { addUser, addUserToFile, setPassword } from "../../src/serve/auth/users-changes.js";
import { emptyUsersFile, readUsersFile, writeUsersFile } from "../../src/serve/auth/users-file.js";

const cheap = { N: 1024, r: 8, p: 1 };
const folder = mkdtempSync(join(tmpdir(), "plantwire-auth-users-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("users file", () => {
  it("is written with mode 600, atomically, and read back", async () => {
    const file = join(folder, "users.json");
    const content = await addUser(emptyUsersFile, {
      name: "ada",
      role: "engineer",
      password: "correct horse battery",
      scrypt: cheap,
    });
    writeUsersFile(file, content);
    if (process.platform !== "win32") expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).not.toContain("correct horse");
    expect(readUsersFile(file)).toEqual(content);
    const changed = await setPassword(content, "ada", "another long password", { scrypt: cheap });
    writeUsersFile(file, changed);
    expect(readdirSync(folder).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    const read = readUsersFile(file);
    expect(await verifyPassword("another long password", read.users[0]!.password)).toBe(true);
  });

  it("keeps every change when several are made at once", async () => {
    const file = join(folder, "together.json");
    const names = ["ann", "ben", "cat", "dan", "eli", "fay"];
    await Promise.all(
      names.map((name) => addUserToFile(file, { name, role: "viewer", password: "a long password", scrypt: cheap })),
    );
    expect(
      readUsersFile(file)
        .users.map((user) => user.name)
        .sort(),
    ).toEqual(names);
    expect(readdirSync(folder).filter((name) => name.endsWith(".lock"))).toEqual([]);
  });

  it("refuses a file others can read, naming the fix", async () => {
    if (process.platform === "win32") return;
    const file = join(folder, "open.json");
    writeUsersFile(file, emptyUsersFile);
    chmodSync(file, 0o640);
    const error = captured(() => readUsersFile(file));
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues[0]).toMatchObject({ path: "(file mode)", fix: `chmod 600 ${file}` });
  });

  it("names the field of every problem in a malformed file", async () => {
    const file = join(folder, "bad.json");
    const good = await addUser(emptyUsersFile, {
      name: "ada",
      role: "operator",
      password: "a long password",
      scrypt: cheap,
    });
    const user = good.users[0]!;
    const write = (content: unknown) => writeFileSync(file, JSON.stringify(content), { mode: 0o600 });
    const issuesOf = () => (captured(() => readUsersFile(file)) as ConfigError).issues.map((issue) => issue.path);

    write({ version: 1, users: [{ ...user, role: "admin" }] });
    expect(issuesOf()).toEqual(["users.0.role"]);
    write({ version: 1, users: [user, { ...user, name: "ADA" }] });
    expect(issuesOf()).toEqual(["users.1.name"]);
    write({ version: 1, users: [{ ...user, password: { ...user.password, N: 3 } }] });
    expect(issuesOf()).toEqual(["users.0.password"]);
    write({ version: 1, users: [user], tokens: [{ ...newApiToken("bob", new Date()).stored }] });
    expect(issuesOf()).toEqual(["tokens.0.user"]);
    write({ version: 1, users: [{ ...user, extra: 1 }] });
    expect(issuesOf()).toEqual(["users.0.extra"]);
    writeFileSync(file, "{ not json");
    expect(issuesOf()).toEqual(["(file)"]);
    const missing = captured(() => readUsersFile(join(folder, "none.json"))) as ConfigError;
    expect(missing.issues[0]?.fix).toMatch(/plantwire users add/);
  });

  it("refuses a taken name, a bad name and a short password", async () => {
    const content = await addUser(emptyUsersFile, {
      name: "ada",
      role: "operator",
      password: "a long password",
      scrypt: cheap,
    });
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(ValidationError.isInstance(error)).toBe(true);
      return (error as ValidationError).field;
    };
    expect(await refused(addUser(content, { name: "Ada", role: "viewer", password: "a long password" }))).toBe("name");
    expect(await refused(addUser(content, { name: "a b", role: "viewer", password: "a long password" }))).toBe("name");
    expect(await refused(addUser(content, { name: "bob", role: "viewer", password: "short" }))).toBe("password");
  });
});

function captured(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
