import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, statSync } from "fs";
import * as path from "path";
import { isDnsLabel } from "../../components/naming";

/**
 * Where the dashboard remembers sessions that signed out before they expired (a session cookie is
 * otherwise self-contained, so without this a copied cookie would outlive its sign-out).
 *
 * Durable: an append-only file of JSON lines `{"sid": "...", "exp": <seconds>}`. Why a file: it
 * is the simplest store that outlives a restart and that several `catalyst serve` replicas can
 * share (a volume they all mount): appends of one short line are atomic (O_APPEND), nobody
 * rewrites the file while serving, and every replica reads what the others appended on its next
 * check (a `stat` per session read, reading only the new bytes). Entries past their session's
 * expiry are ignored, and dropped from memory; the file only grows by one line per sign-out
 * (about 60 bytes), so no compaction is needed for a dashboard's sign-out rate.
 */

/** Signed-out session ids. */
export interface Revocations {
    /** True when `sid` signed out and its session has not expired yet. */
    has(sid: string): boolean;
    /** Records a sign-out of `sid`, whose session expires at `exp` (seconds since the epoch). */
    add(sid: string, exp: number): Promise<void>;
    /** Where they are kept, for messages. */
    describe(): string;
}

/** Sign-outs in this process's memory only (tests; a single process without COOKIE_SECRET). */
export class MemoryRevocations implements Revocations {
    protected readonly revoked = new Map<string, number>();

    constructor(protected readonly now: () => number = () => Math.floor(Date.now() / 1000)) {}

    has(sid: string): boolean {
        const exp = this.revoked.get(sid);
        return exp !== undefined && exp > this.now();
    }

    async add(sid: string, exp: number): Promise<void> {
        this.remember(sid, exp);
    }

    describe(): string {
        return "memory";
    }

    protected remember(sid: string, exp: number): void {
        this.rememberAll([[sid, exp]]);
    }

    /** Adds sign-outs and forgets the expired ones, in one pass over what is known. */
    protected rememberAll(entries: Iterable<[string, number]>): void {
        const now = this.now();
        for (const [id, until] of this.revoked) if (until <= now) this.revoked.delete(id);
        for (const [sid, exp] of entries) if (exp > now) this.revoked.set(sid, exp);
    }
}

/** Sign-outs in an append-only file that outlives restarts and is shared by replicas. */
export class FileRevocations extends MemoryRevocations {
    /** How much of the file has been read. */
    private offset = 0;
    /** A line cut by a read while another process was appending it. */
    private partial = "";

    constructor(private readonly file: string, now?: () => number) {
        super(now);
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        this.refresh();
    }

    override has(sid: string): boolean {
        this.refresh();
        return super.has(sid);
    }

    override async add(sid: string, exp: number): Promise<void> {
        // Remembered here at once; the line tells restarts and the other replicas.
        this.remember(sid, exp);
        appendFileSync(this.file, `${JSON.stringify({ sid, exp })}\n`, { mode: 0o600 });
    }

    override describe(): string {
        return this.file;
    }

    /** Reads what was appended since the last read (the whole file after it shrank or was replaced). */
    private refresh(): void {
        let size: number;
        try {
            size = statSync(this.file).size;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
            throw err;
        }
        if (size === this.offset) return;
        if (size < this.offset) {
            this.offset = 0;
            this.partial = "";
        }
        const fd = openSync(this.file, "r");
        try {
            const length = fstatSync(fd).size - this.offset;
            const buffer = Buffer.alloc(length);
            const read = readSync(fd, buffer, 0, length, this.offset);
            this.offset += read;
            const lines = (this.partial + buffer.subarray(0, read).toString("utf8")).split("\n");
            this.partial = lines.pop() ?? "";
            for (const line of lines) {
                try {
                    const entry = JSON.parse(line) as { sid?: unknown; exp?: unknown };
                    if (typeof entry.sid === "string" && typeof entry.exp === "number") this.remember(entry.sid, entry.exp);
                } catch {
                    // A torn or foreign line: skipped (a sign-out is never recorded by halves by this code).
                }
            }
        } finally {
            closeSync(fd);
        }
    }
}

/** `<namespace>/<name>` of the variable `variable`, both DNS-1123 labels (as the platform names its Secrets), validated. */
export function secretRefOf(value: string, variable: string): { namespace: string; name: string } {
    const [namespace, name, ...rest] = value.trim().split("/");
    if (rest.length > 0 || name === undefined || !isDnsLabel(namespace) || !isDnsLabel(name)) {
        throw new Error(`${variable}: must be <namespace>/<name> of a Secret (lower-case DNS labels), got ${JSON.stringify(value)}`);
    }
    return { namespace, name };
}

/**
 * The sign-out store of `catalyst serve`: the Secret CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF
 * (`<namespace>/<name>`, in a cluster: ./revocations-secret.ts, read once here so that a missing
 * Secret or right stops the start), else the file CATALYST_DASHBOARD_SIGNED_OUT_FILE, else
 * `signed-out.jsonl` in `stateDir` (the embedded default's `.catalyst/dashboard/`).
 */
export async function revocationsFromEnv(env: NodeJS.ProcessEnv, stateDir: string): Promise<Revocations> {
    const file = env.CATALYST_DASHBOARD_SIGNED_OUT_FILE;
    const secret = env.CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF;
    if (file !== undefined && file.trim() === "") throw new Error("CATALYST_DASHBOARD_SIGNED_OUT_FILE: must be a file path when set");
    if (secret !== undefined) {
        if (file !== undefined) throw new Error("CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF: set it or CATALYST_DASHBOARD_SIGNED_OUT_FILE, not both");
        const { namespace, name } = secretRefOf(secret, "CATALYST_DASHBOARD_SIGNED_OUT_SECRET_REF");
        // Loaded only when asked for: the Kubernetes client is a module graph of its own.
        const { SecretRevocations } = await import("./revocations-secret");
        return new SecretRevocations(namespace, name).start();
    }
    return new FileRevocations(path.resolve(file ?? path.join(stateDir, "signed-out.jsonl")));
}
