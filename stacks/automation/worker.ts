import { runRequest } from "./engine";
import { WorkerMessage, WorkerRequest } from "./protocol";

/*
 * Entry point of a worker process (started by runner.ts, one per stack operation). It receives one
 * WorkerRequest over IPC, runs it with the Automation API in the stack's work dir, sends progress
 * events and one result back, and exits.
 *
 * SIGINT asks for a graceful stop: the running `pulumi` gets exactly one SIGINT through the
 * Automation API's abort signal, finishes the resource operations in flight and stops. A second
 * signal is not forwarded (a second SIGINT would make pulumi quit at once); the runner sends
 * SIGKILL to the whole process group when the grace period is over.
 */
const controller = new AbortController();
process.on("SIGINT", () => controller.abort());

function send(message: WorkerMessage): Promise<void> {
    return new Promise((resolve) => {
        if (!process.send || !process.connected) {
            resolve();
            return;
        }
        process.send(message, undefined, {}, () => resolve());
    });
}

let started = false;
process.on("message", (request: WorkerRequest) => {
    if (started) {
        return;
    }
    started = true;
    void runRequest(request, (event) => void send({ type: "event", event }), controller.signal)
        .then((result) => send({ type: "result", result }))
        .finally(() => process.exit(0));
});
// The parent may go away (its process was killed): a started operation still runs to its end.
process.on("disconnect", () => {
    if (!started) {
        process.exit(0);
    }
});
