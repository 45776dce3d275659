import { conditionRows, EnvironmentCondition } from "./view";

/**
 * An environment's conditions (`conditions` of `GET /environments/:name`): type, status, reason,
 * message and since when, in the viewer's time zone. A condition whose status is not the fine one
 * for its type is marked (a sign and the row's colour), so why an environment is not ready shows first.
 * The badge is wrapped, as in the history, so it keeps its size in the phone layout's grid cell.
 */
export function Conditions({ conditions }: { conditions: EnvironmentCondition[] | undefined }) {
    const rows = conditionRows(conditions);
    return (
        <section aria-labelledby="conditions-title">
            <h2 id="conditions-title">Conditions</h2>
            <div class="table-wrap">
                <table data-testid="conditions">
                    <thead><tr><th scope="col">Condition</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead>
                    <tbody>
                        {rows.map((c) => (
                            <tr key={c.type} data-type={c.type} data-status={c.status} data-healthy={String(c.healthy)} class={c.healthy ? undefined : "not-ready"}>
                                <th scope="row" data-label="Condition">{c.healthy ? "" : <span class="not-ready-mark" aria-label="not ready" title="not ready">! </span>}{c.type}</th>
                                <td data-label="Status"><span><span class={`status s-${c.healthy ? "ready" : c.status === "Unknown" ? "empty" : "failed"}`}>{c.status}</span></span></td>
                                <td data-label="Reason" data-testid="reason">{c.reason}</td>
                                <td data-label="Message" data-testid="message">{c.message === "" ? "—" : c.message}</td>
                                <td data-label="Since">{c.since}</td>
                            </tr>
                        ))}
                        {rows.length === 0 && <tr><td colSpan={5}>No conditions.</td></tr>}
                    </tbody>
                </table>
            </div>
        </section>
    );
}
