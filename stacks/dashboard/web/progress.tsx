import { useEffect, useState } from "preact/hooks";
import { applyEvent, formatDuration, Progress } from "./view";

/** An operation the page started: its id (for `/operations/:id/events`), what and on which stack. */
export interface StartedOperation {
    id: string;
    stack: string;
    action: string;
    startedAt: number;
}

/**
 * Live progress of one operation from its server-sent events: current step, resources done of
 * total, elapsed time, and the result at the end. Calls `onEnd` once with the final status.
 */
export function OperationProgress({ operation, onEnd }: { operation: StartedOperation; onEnd?: (status: string) => void }) {
    const [progress, setProgress] = useState<Progress>({});
    const [now, setNow] = useState(Date.now());
    useEffect(() => {
        const source = new EventSource(`/operations/${encodeURIComponent(operation.id)}/events`);
        let ended = false;
        const on = (type: string) => (e: MessageEvent<string>) => {
            const data = JSON.parse(e.data) as Record<string, unknown>;
            setProgress((p) => {
                const next = applyEvent(p, type, data);
                if (type === "end" && !ended) {
                    ended = true;
                    source.close();
                    queueMicrotask(() => onEnd?.(next.status ?? "unknown"));
                }
                return next;
            });
        };
        for (const type of ["step", "resource", "done", "end"]) source.addEventListener(type, on(type) as EventListener);
        source.onerror = () => {
            if (ended) source.close();
        };
        const tick = setInterval(() => setNow(Date.now()), 1000);
        return () => {
            source.close();
            clearInterval(tick);
        };
    }, [operation.id]);
    const finished = progress.status !== undefined;
    const percent = progress.total ? Math.round(((progress.done ?? 0) / progress.total) * 100) : 0;
    return (
        <section class={`progress ${finished ? progress.status : "running"}`} aria-live="polite" data-testid="progress" data-state={progress.status ?? "running"}>
            <h3>{operation.action === "destroy" ? "Destroying" : "Creating"} {operation.stack}</h3>
            <progress max={100} value={finished && progress.status === "succeeded" ? 100 : percent} aria-label="resources done" />
            <dl class="facts">
                <dt>Step</dt><dd data-testid="step">{progress.step ?? "starting"}</dd>
                <dt>Resources</dt><dd>{progress.total ? `${progress.done ?? 0} of ${progress.total}` : "—"}</dd>
                {!finished && <><dt>Elapsed</dt><dd>{formatDuration(now - operation.startedAt)}</dd></>}
                {finished && <><dt>Result</dt><dd data-testid="result"><strong>{progress.status}</strong>{progress.error ? `: ${progress.error}` : ""}</dd></>}
            </dl>
        </section>
    );
}
