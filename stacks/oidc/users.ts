import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "fs";
import * as path from "path";
import * as bcrypt from "bcryptjs";
import { Identity } from "./identity";

/**
 * The local users file of the embedded default: who may sign in with a password, with bcrypt
 * hashes (never passwords), e-mail and groups. Read on every sign-in and refresh, so adding or
 * removing a person takes effect at once, and a removed person's refresh is refused.
 *
 *     {"users": [{"name": "alice", "passwordHash": "$2b$12$...", "email": "alice@example.com", "groups": ["catalyst-developers"]}]}
 */

/** One person of the users file. */
export interface LocalUser {
    name: string;
    passwordHash: string;
    email?: string;
    groups?: string[];
}

/** The rounds of new hashes: about 0.2 s per check on this machine's cores, 4096 times a guess's cost. */
export const BCRYPT_ROUNDS = 12;

const NAME = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

/** A hash compared against when the user does not exist, so that both cases cost the same. */
let dummyHash: Promise<string> | undefined;

/** Reads and checks the users file; the message names the file and the entry. */
export function readUsers(file: string): LocalUser[] {
    if (!existsSync(file)) return [];
    let value: unknown;
    try {
        value = JSON.parse(readFileSync(file, "utf8"));
    } catch {
        throw new Error(`${file}: not JSON`);
    }
    return checkUsers((value as { users?: unknown } | null)?.users, file);
}

/** Checks the entries of a users file; the message names the file and the entry. */
export function checkUsers(users: unknown, file: string): LocalUser[] {
    if (!Array.isArray(users)) throw new Error(`${file}: must be {"users": [...]}`);
    users.forEach((user: Partial<LocalUser>, index) => {
        const where = `${file}: users[${index}]`;
        if (typeof user?.name !== "string" || !NAME.test(user.name)) throw new Error(`${where}.name: lower-case letters, digits, '.', '_' or '-'`);
        if (typeof user.passwordHash !== "string" || !/^\$2[aby]\$\d\d\$/.test(user.passwordHash)) throw new Error(`${where}.passwordHash: must be a bcrypt hash`);
        if (user.email !== undefined && (typeof user.email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(user.email))) throw new Error(`${where}.email: must be an e-mail address`);
        if (user.groups !== undefined && (!Array.isArray(user.groups) || user.groups.some((g) => typeof g !== "string" || !NAME.test(g)))) {
            throw new Error(`${where}.groups: a list of group names`);
        }
    });
    return users as LocalUser[];
}

/** The identity of a local user (no password). */
export function localIdentity(user: LocalUser): Identity {
    return { sub: `local:${user.name}`, username: user.name, email: user.email, groups: [...(user.groups ?? [])] };
}

/** The identity behind `sub` if that user is still in the file. */
export function findLocalUser(file: string, sub: string): Identity | undefined {
    const user = readUsers(file).find((u) => `local:${u.name}` === sub);
    return user && localIdentity(user);
}

/**
 * Checks a password: the identity when it matches, else undefined. An unknown user costs the same
 * bcrypt comparison as a known one, so timing does not tell which names exist.
 */
export async function verifyPassword(file: string, name: string, password: string): Promise<Identity | undefined> {
    const user = readUsers(file).find((u) => u.name === name);
    dummyHash ??= bcrypt.hash("no such user", BCRYPT_ROUNDS);
    const matches = await bcrypt.compare(password, user?.passwordHash ?? (await dummyHash));
    return user && matches ? localIdentity(user) : undefined;
}

/** A bcrypt hash of `password` for the users file. */
export function hashPassword(password: string, rounds = BCRYPT_ROUNDS): Promise<string> {
    return bcrypt.hash(password, rounds);
}

/** Adds (or replaces) a person in the users file, keeping the others; 0600 like every secret file. */
export async function addUser(file: string, user: { name: string; password: string; email?: string; groups: string[] }): Promise<void> {
    const users = readUsers(file).filter((u) => u.name !== user.name);
    const entry: LocalUser = { name: user.name, passwordHash: await hashPassword(user.password), ...(user.email ? { email: user.email } : {}), groups: user.groups };
    const next = checkUsers([...users, entry], file);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ users: next }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, file);
}
