import { useState } from "preact/hooks";
import { ApiFailure, call, SessionInfo } from "./api";

/** Sign-in with a Catalyst API token (docs/api.md); the server answers with the session cookie. */
export function SignIn({ onSignedIn }: { onSignedIn: (session: SessionInfo) => void }) {
    const [token, setToken] = useState("");
    const [error, setError] = useState<string | undefined>();
    const [busy, setBusy] = useState(false);
    const submit = async (e: Event) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
            onSignedIn(await call<SessionInfo>("POST", "/session", { token }));
        } catch (err) {
            setError(err instanceof ApiFailure ? err.message.replace(/^token: /, "") : "sign-in failed");
        } finally {
            setBusy(false);
        }
    };
    return (
        <main id="main" class="signin">
            <h1>Catalyst Environments</h1>
            <form onSubmit={submit} noValidate>
                <label for="token">API token</label>
                <input id="token" name="token" type="password" autoComplete="off" required value={token}
                    aria-invalid={error !== undefined} aria-describedby={error ? "token-error" : "token-help"}
                    onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
                <p id="token-help" class="help">A token from the server's token table (CATALYST_API_TOKENS). It is sent once; the session lasts 8 hours.</p>
                {error && <p id="token-error" class="error" role="alert">{error}</p>}
                <button type="submit" disabled={busy}>Sign in</button>
            </form>
        </main>
    );
}
