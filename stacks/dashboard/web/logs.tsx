import { useEffect, useRef, useState } from "preact/hooks";
import { ApiFailure } from "./api";
import { LogBuffer } from "./view";

/**
 * A live log view over `GET /environments/:name/logs?follow=true` (plain text, streamed): shows
 * the last lines and follows new ones; Pause stops the view from moving (lines keep arriving
 * into the bounded buffer); the count of dropped lines shows when the buffer let some go.
 */
export function LogView({ environment, pods }: { environment: string; pods: string[] }) {
    const [pod, setPod] = useState(pods[0] ?? "");
    const [paused, setPaused] = useState(false);
    const [, setVersion] = useState(0);
    const [state, setState] = useState<"idle" | "streaming" | "ended" | string>("idle");
    const buffer = useRef(new LogBuffer());
    const shown = useRef<{ lines: string[]; dropped: number }>({ lines: [], dropped: 0 });
    const box = useRef<HTMLPreElement>(null);
    useEffect(() => {
        if (pod === "") return;
        buffer.current = new LogBuffer();
        shown.current = { lines: [], dropped: 0 };
        setVersion((v) => v + 1);
        const abort = new AbortController();
        setState("streaming");
        void (async () => {
            try {
                const res = await fetch(`/environments/${encodeURIComponent(environment)}/logs?pod=${encodeURIComponent(pod)}&follow=true&lines=200`, { signal: abort.signal, credentials: "same-origin" });
                if (!res.ok || res.body === null) {
                    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
                    throw new ApiFailure(res.status, "error", body.error?.message ?? `${res.status}`);
                }
                const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
                for (;;) {
                    const { value, done } = await reader.read();
                    if (done) break;
                    buffer.current.push(value);
                    setVersion((v) => v + 1);
                }
                buffer.current.flush();
                setVersion((v) => v + 1);
                setState("ended");
            } catch (err) {
                if (!abort.signal.aborted) setState(`error: ${(err as Error).message}`);
            }
        })();
        return () => abort.abort();
    }, [environment, pod]);
    if (!paused) shown.current = { lines: [...buffer.current.lines], dropped: buffer.current.dropped };
    useEffect(() => {
        if (!paused && box.current !== null) box.current.scrollTop = box.current.scrollHeight;
    });
    const waiting = buffer.current.lines.length + buffer.current.dropped - shown.current.lines.length - shown.current.dropped;
    return (
        <section class="logs" aria-labelledby="logs-title">
            <h2 id="logs-title">Logs</h2>
            <div class="log-controls">
                <div class="field">
                    <label for="log-pod">Pod</label>
                    <select id="log-pod" value={pod} onChange={(e) => setPod((e.target as HTMLSelectElement).value)}>
                        {pods.map((p) => <option key={p} value={p}>{p}</option>)}
                    </select>
                </div>
                <button type="button" class="secondary" aria-pressed={paused} onClick={() => setPaused(!paused)}>{paused ? "Resume" : "Pause"}</button>
                <span class="log-state" data-testid="log-state">{state === "streaming" ? (paused ? `paused, ${waiting} new lines waiting` : "following") : state}</span>
                {shown.current.dropped > 0 && <span class="dropped" data-testid="dropped">{shown.current.dropped} older lines dropped (the view keeps the last {buffer.current.maxLines})</span>}
            </div>
            <pre ref={box} class="log" tabIndex={0} aria-label={`Logs of ${pod}`} data-testid="log">{shown.current.lines.join("\n")}</pre>
        </section>
    );
}
