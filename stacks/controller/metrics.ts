import { createServer, Server } from "http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The controller's Prometheus metrics (prom-client, the Node client the Prometheus docs list, so
 * that the exposition format and process metrics are not ours to get right) and its HTTP
 * endpoint: `/metrics`, `/healthz` (the process serves) and `/readyz` (its watches are synced).
 */
export class ControllerMetrics {
    readonly registry = new Registry();
    readonly reconciles: Counter<"result">;
    readonly duration: Histogram<"result">;
    readonly failures: Counter<"action">;
    readonly queueDepth: Gauge;
    readonly inFlight: Gauge;
    readonly leasesHeld: Gauge;

    constructor() {
        collectDefaultMetrics({ register: this.registry, prefix: "catalyst_controller_" });
        const registers = [this.registry];
        this.reconciles = new Counter({ name: "catalyst_controller_reconciles_total", help: "Reconciles by result", labelNames: ["result"], registers });
        this.duration = new Histogram({
            name: "catalyst_controller_reconcile_duration_seconds",
            help: "Duration of reconciles by result",
            labelNames: ["result"],
            buckets: [0.1, 1, 5, 15, 30, 60, 120, 300, 600, 1800],
            registers,
        });
        this.failures = new Counter({ name: "catalyst_controller_operation_failures_total", help: "Failed stack operations by action", labelNames: ["action"], registers });
        this.queueDepth = new Gauge({ name: "catalyst_controller_queue_depth", help: "Environments waiting in the work queue", registers });
        this.inFlight = new Gauge({ name: "catalyst_controller_reconciles_in_flight", help: "Reconciles running now", registers });
        this.leasesHeld = new Gauge({ name: "catalyst_controller_leases_held", help: "Environment leases this replica holds", registers });
    }
}

/** Serves metrics and health on 127.0.0.1 or `host`:`port` (0: any free port). */
export function serveMetrics(metrics: ControllerMetrics, ready: () => boolean, port: number, host = "127.0.0.1"): Promise<Server> {
    const server = createServer((req, res) => {
        const url = req.url ?? "/";
        if (url === "/healthz") {
            res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        } else if (url === "/readyz") {
            const ok = ready();
            res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "watches not synced\n");
        } else if (url === "/metrics") {
            metrics.registry.metrics().then(
                (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
                (err: Error) => res.writeHead(500).end(err.message),
            );
        } else {
            res.writeHead(404).end();
        }
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve(server));
    });
}
