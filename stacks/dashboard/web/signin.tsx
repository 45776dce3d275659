import { useState } from "preact/hooks";
import { ApiFailure, call, SessionInfo } from "./api";
import { SSO_ERROR_PARAM, SSO_START_PATH, ssoErrorMessage } from "./sso-contract";

/** Whether the server offers single sign-on (it says so on the page's root element). */
function ssoOffered(): boolean {
    return document.getElementById("app")?.dataset.sso === "true";
}

/**
 * Sign-in with a Catalyst API token (docs/api.md), the server answering with the session cookie;
 * and, when the server offers it, a link to single sign-on, whose failures come back here as a
 * code in the URL.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: SessionInfo) => void }) {
    const [token, setToken] = useState("");
    const [error, setError] = useState<string | undefined>();
    const ssoError = ssoErrorMessage(new URLSearchParams(location.search).get(SSO_ERROR_PARAM));
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
            {ssoError && <p class="error" role="alert" data-testid="sso-error">{ssoError}</p>}
            {ssoOffered() && <p class="sso"><a class="button" href={SSO_START_PATH}>Sign in with single sign-on</a></p>}
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
