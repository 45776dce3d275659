import { useEffect, useRef, useState } from "preact/hooks";
import { ApiFailure } from "./api";
import { PausableLog } from "./view";

/**
 * A live log view over `GET /environments/:name/logs?follow=true` (plain text, streamed): shows
 * the last lines and follows new ones; Pause stops the view from moving (lines keep arriving
 * into the bounded buffer); the count of dropped lines shows when the buffer let some go.
 */
export function LogView({ environment, pods }: { environment: string; pods: string[] }) {
    const [pod, setPod] = useState(pods[0] ?? "");
    const [, setVersion] = useState(0);
    const [state, setState] = useState<"idle" | "streaming" | "ended" | string>("idle");
    const log = useRef(new PausableLog());
    const box = useRef<HTMLPreElement>(null);
    useEffect(() => {
        if (pod === "") return;
        log.current = new PausableLog();
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
                    log.current.buffer.push(value);
                    setVersion((v) => v + 1);
                }
                log.current.buffer.flush();
                setVersion((v) => v + 1);
                setState("ended");
            } catch (err) {
                if (!abort.signal.aborted) setState(`error: ${(err as Error).message}`);
            }
        })();
        return () => abort.abort();
    }, [environment, pod]);
    const paused = log.current.paused;
    const shown = log.current.view();
    useEffect(() => {
        if (!paused && box.current !== null) box.current.scrollTop = box.current.scrollHeight;
    });
    const toggle = () => {
        if (paused) log.current.resume();
        else log.current.pause();
        setVersion((v) => v + 1);
    };
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
                <button type="button" class="secondary" aria-pressed={paused} onClick={toggle}>{paused ? "Resume" : "Pause"}</button>
                <span class="log-state" data-testid="log-state">{state === "streaming" ? (paused ? `paused, ${shown.waiting} new lines waiting` : "following") : state}</span>
                {shown.dropped > 0 && <span class="dropped" data-testid="dropped">{shown.dropped} older lines dropped (the view keeps the last {log.current.buffer.maxLines})</span>}
            </div>
            <pre ref={box} class="log" tabIndex={0} aria-label={`Logs of ${pod}`} data-testid="log">{shown.lines.join("\n")}</pre>
        </section>
    );
}
