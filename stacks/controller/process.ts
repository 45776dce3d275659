import type { ControllerOptions } from "./index";

/**
 * The controller process: the toolchain environment, the automation library, the API server
 * client, the metrics endpoint and the controller, then a clean stop on SIGINT or SIGTERM (no new
 * work, the reconciles in flight finish, their leases are given back).
 */
export async function start(options: ControllerOptions): Promise<number> {
    const log = (record: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), identity: options.identity, ...record })}\n`);
    const { loadEnvironment, needsEnvironment } = await import("../automation/environment");
    const { REPO_ROOT } = await import("../automation/workspace");
    if (needsEnvironment(process.env)) loadEnvironment(REPO_ROOT);
    const { Automation } = await import("../automation/operations");
    const { KubeControlPlane } = await import("./kube");
    const { Controller } = await import("./controller");
    const { ControllerMetrics, serveMetrics } = await import("./metrics");

    const automation = new Automation({ repoRoot: REPO_ROOT, actor: options.identity, concurrency: options.concurrency, platformStack: options.platformStack });
    const metrics = new ControllerMetrics();
    const { namespace, identity, concurrency, leaseDurationSeconds, resyncMs, maxFailures, backoffBaseMs, driftIntervalMs } = options;
    const controller = new Controller(new KubeControlPlane(), automation, metrics, {
        namespace, identity, concurrency, leaseDurationSeconds, resyncMs, maxFailures, backoffBaseMs, backoffMaxMs: 10 * 60_000, driftIntervalMs, log,
    });
    let server;
    try {
        server = await serveMetrics(metrics, () => controller.ready, options.metricsPort, options.metricsHost);
        await controller.start();
    } catch (err) {
        log({ level: "error", msg: `could not start: ${(err as Error).message.split("\n")[0]}` });
        server?.close();
        return 1;
    }
    const address = server.address();
    log({ level: "info", msg: "serving /metrics, /healthz, /readyz", port: typeof address === "object" && address !== null ? address.port : options.metricsPort });
    await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
    });
    log({ level: "info", msg: "stopping: finishing the reconciles in flight" });
    await controller.stop();
    server.close();
    return 0;
}
