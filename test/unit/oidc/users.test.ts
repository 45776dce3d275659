import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { addUser, findLocalUser, hashPassword, readUsers, verifyPassword } from "../../../stacks/oidc/users";

describe("local users file", () => {
    let dir: string;
    let file: string;

    beforeAll(async () => {
        dir = mkdtempSync(path.join(tmpdir(), "catalyst-users-"));
        file = path.join(dir, "users.json");
        writeFileSync(file, JSON.stringify({ users: [{ name: "alice", passwordHash: await hashPassword("correct horse", 4), email: "alice@example.com", groups: ["developers"] }] }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("signs in with the right password, as the identity the ID token will carry", async () => {
        expect(await verifyPassword(file, "alice", "correct horse")).toEqual({ sub: "local:alice", username: "alice", email: "alice@example.com", groups: ["developers"] });
    });

    it("refuses a wrong password and an unknown user alike", async () => {
        expect(await verifyPassword(file, "alice", "wrong")).toBeUndefined();
        expect(await verifyPassword(file, "mallory", "correct horse")).toBeUndefined();
    });

    it("finds a user by subject while they are in the file (refreshes depend on it)", () => {
        expect(findLocalUser(file, "local:alice")?.groups).toEqual(["developers"]);
        expect(findLocalUser(file, "local:bob")).toBeUndefined();
    });

    it("adds a user with a bcrypt hash, never the password, in a 0600 file", async () => {
        const other = path.join(dir, "added.json");
        await addUser(other, { name: "bob", password: "s3cret-pass", groups: ["reviewers"] });
        const text = readFileSync(other, "utf8");
        expect(text).not.toContain("s3cret-pass");
        expect(readUsers(other)[0].passwordHash).toMatch(/^\$2[aby]\$12\$/);
        expect(statSync(other).mode & 0o777).toBe(0o600);
        expect(await verifyPassword(other, "bob", "s3cret-pass")).toMatchObject({ username: "bob", groups: ["reviewers"] });
    });

    it("refuses a bad entry with the file and field in the message, and writes nothing", async () => {
        const other = path.join(dir, "bad.json");
        await expect(addUser(other, { name: "Bad Name", password: "s3cret-pass", groups: [] })).rejects.toThrow(`${other}: users[0].name: lower-case letters`);
        expect(readUsers(other)).toEqual([]);
        writeFileSync(other, JSON.stringify({ users: [{ name: "carol", passwordHash: "plain" }] }));
        expect(() => readUsers(other)).toThrow("users[0].passwordHash: must be a bcrypt hash");
    });
});
