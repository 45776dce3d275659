import { mkdtempSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server } from "http";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import * as path from "path";
import { exitCodeOf, listPods, namespaceKubeconfig, tailLogs } from "../../../stacks/api/kube";

/*
 * stacks/api/kube.ts through @kubernetes/client-node against a stand-in API server on
 * 127.0.0.1 (the real client, its real HTTP requests; the server answers as Kubernetes does).
 * The exec websocket and real pods are covered by test/integration/api.test.ts on kwok.
 */

// app-2 has not been started yet: no status.startTime.
const pod = (name: string, ready: boolean) => ({
    metadata: { name, namespace: "env-pr-1", creationTimestamp: "2026-12-07T06:00:00Z" },
    spec: { nodeName: "kwok-node-0", containers: [{ name: "app" }] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: ready ? "True" : "False" }], containerStatuses: [{ name: "app", restartCount: 2 }], ...(ready ? { startTime: "2026-12-07T06:00:05Z" } : {}) },
});

describe("kube.ts over client-node", () => {
    let server: Server;
    const seen: { method?: string; url?: string; body: string }[] = [];
    const previous = process.env.KUBECONFIG;

    beforeAll(async () => {
        server = createServer((req: IncomingMessage, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                seen.push({ method: req.method, url: req.url, body });
                const json = (status: number, value: unknown) => {
                    res.writeHead(status, { "content-type": "application/json" });
                    res.end(JSON.stringify(value));
                };
                const url = new URL(req.url ?? "/", "http://x");
                if (url.pathname === "/api/v1/namespaces/env-pr-1/pods") return json(200, { kind: "PodList", apiVersion: "v1", metadata: {}, items: [pod("app-1", true), pod("app-2", false)] });
                if (url.pathname === "/api/v1/namespaces/env-pr-1/pods/app-1") return json(200, pod("app-1", true));
                if (url.pathname === "/api/v1/namespaces/env-pr-1/pods/app-1/log") {
                    res.writeHead(200, { "content-type": "text/plain" });
                    return res.end(`tail=${url.searchParams.get("tailLines")} limit=${url.searchParams.get("limitBytes")} container=${url.searchParams.get("container")}\n`);
                }
                if (url.pathname === "/api/v1/namespaces/env-pr-1/serviceaccounts/owner-kubeconfig/token" && req.method === "POST") {
                    return json(201, { kind: "TokenRequest", apiVersion: "authentication.k8s.io/v1", spec: JSON.parse(body).spec, status: { token: "short-lived", expirationTimestamp: "2030-01-01T00:00:00Z" } });
                }
                json(404, { kind: "Status", apiVersion: "v1", status: "Failure", message: `pods "${url.pathname.split("/").pop()}" not found`, reason: "NotFound", code: 404 });
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const dir = mkdtempSync(path.join(tmpdir(), "catalyst-kube-"));
        const kubeconfig = path.join(dir, "kubeconfig");
        writeFileSync(kubeconfig, JSON.stringify({
            apiVersion: "v1", kind: "Config",
            // client-node speaks plain HTTP only with TLS verification off: this stand-in has no TLS.
            clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, "insecure-skip-tls-verify": true } }],
            users: [{ name: "u", user: { token: "admin" } }],
            contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
            "current-context": "ctx",
        }));
        process.env.KUBECONFIG = kubeconfig;
    });
    afterAll(async () => {
        process.env.KUBECONFIG = previous;
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
    });

    it("lists pods with readiness, restarts, and when they were created and started", async () => {
        expect(await listPods("env-pr-1")).toEqual([
            { name: "app-1", phase: "Running", ready: true, restarts: 2, node: "kwok-node-0", createdAt: "2026-12-07T06:00:00.000Z", startedAt: "2026-12-07T06:00:05.000Z" },
            { name: "app-2", phase: "Running", ready: false, restarts: 2, node: "kwok-node-0", createdAt: "2026-12-07T06:00:00.000Z" },
        ]);
    });

    it("tails logs of the pod's first container with the line and byte caps", async () => {
        expect(await tailLogs("env-pr-1", { pod: "app-1" }, 5, 100)).toEqual({ text: "tail=5 limit=100 container=app\n", truncated: false });
        await expect(tailLogs("env-pr-1", { pod: "gone" }, 5, 100)).rejects.toMatchObject({ kind: "not-found", message: 'read pod gone: pods "gone" not found' });
    });

    it("builds a namespace kubeconfig from a TokenRequest of the owner service account", async () => {
        const config = JSON.parse(await namespaceKubeconfig("env-pr-1", 600));
        expect(config).toMatchObject({ "current-context": "env-pr-1", users: [{ name: "env-pr-1-owner", user: { token: "short-lived" } }] });
        const request = seen.find((s) => s.url?.endsWith("/token"));
        expect(JSON.parse(request!.body)).toMatchObject({ spec: { expirationSeconds: 600 } });
    });

    it("reads an exec's exit code from its final Status", () => {
        expect(exitCodeOf({ status: "Success" })).toBe(0);
        expect(exitCodeOf({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } })).toBe(3);
        expect(exitCodeOf({ status: "Failure", message: "container not found" })).toBe(1);
    });
});
