import type { IncomingMessage, ServerResponse } from "http";
import type { EnvironmentResources } from "../resources/client";
import type { EnvironmentObject } from "../resources/types";
import type { Activity } from "./activity";
import { environmentActivity, ResourceOperation } from "./environment-progress";
import { formatSse } from "./operations";
import type { PreviewResources } from "./resources";

/**
 * Live feeds of Environment resources for the HTTP API in resource mode: the `GET /events`
 * activity of every Environment of the namespace (one watch, started with the first listener and
 * stopped after the last), and `/operations/:id/events` of one resource-mode operation as
 * server-sent events. Where the API may not watch (RBAC), the activity stays silent and lists
 * fall back on their poll; a follow reads every second instead.
 */

type Watcher = (activity: Activity) => void;

/** Activity of every Environment of a namespace, from one shared watch. */
export class EnvironmentActivity {
    private readonly watchers = new Set<Watcher>();
    /** The last activity of each Environment (by name), replayed to a new watcher. */
    private readonly latest = new Map<string, { activity: Activity; json: string }>();
    private stopWatch?: Promise<(() => void) | undefined>;

    constructor(private readonly resources: EnvironmentResources) {}

    /** Calls `watcher` with the latest activity of each Environment, then with each change; returns unwatch. */
    watch(watcher: Watcher): () => void {
        for (const { activity } of this.latest.values()) watcher(activity);
        this.watchers.add(watcher);
        this.stopWatch ??= this.start();
        return () => {
            this.watchers.delete(watcher);
            if (this.watchers.size > 0 || this.stopWatch === undefined) return;
            const stopping = this.stopWatch;
            this.stopWatch = undefined;
            this.latest.clear();
            void stopping.then((stop) => stop?.());
        };
    }

    private async start(): Promise<(() => void) | undefined> {
        try {
            return await this.resources.watchAll({
                changed: (environment) => this.see(environment, false),
                deleted: (environment) => this.see(environment, true),
            });
        } catch {
            // No watch (RBAC, API server away): the lists' poll covers it.
            return undefined;
        }
    }

    private see(environment: EnvironmentObject, deleted: boolean): void {
        const name = environment.metadata.name;
        const activity = environmentActivity(environment, deleted);
        const json = JSON.stringify(activity);
        if (this.latest.get(name)?.json === json) return;
        if (deleted) this.latest.delete(name);
        else this.latest.set(name, { activity, json });
        for (const watcher of this.watchers) watcher(activity);
    }
}

/**
 * `/operations/:id/events` of a resource-mode operation: `step` and `resource` events as the
 * controller's status moves, then `end` with the operation's view, the same types as direct
 * mode's stream (no engine log lines: the Environment's status has none).
 */
export async function streamResourceOperation(previews: PreviewResources, operation: ResourceOperation, user: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hangUp = new AbortController();
    req.once("close", () => hangUp.abort());
    let seq = 0;
    let started = false;
    const send = (type: string, data: unknown) => {
        if (!started) {
            res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-content-type-options": "nosniff" });
            started = true;
        }
        res.write(formatSse(type, data, seq++));
    };
    // A heartbeat keeps proxies from closing a stream that waits minutes for the controller.
    const beat = setInterval(() => started && res.write(": keep-alive\n\n"), 25_000);
    try {
        const end = await previews.follow(operation, user, send, hangUp.signal);
        if (!hangUp.signal.aborted) {
            send("end", end);
            res.end();
        }
    } finally {
        clearInterval(beat);
    }
}
