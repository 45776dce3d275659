import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { call, currentSession, SessionInfo, useSession } from "./api";
import { EnvironmentPage } from "./environment";
import { ListPage } from "./list";
import { SignIn } from "./signin";
import { parseRoute, Route } from "./view";

/** The dashboard's root: the session, the hash route, the header with sign-out. */
function App() {
    const [session, setSession] = useState<SessionInfo | undefined | null>(null);
    const [route, setRoute] = useState<Route>(parseRoute(location.hash));
    useEffect(() => {
        currentSession().then((s) => {
            useSession(s);
            setSession(s);
        }, () => setSession(undefined));
        const onHash = () => setRoute(parseRoute(location.hash));
        addEventListener("hashchange", onHash);
        return () => removeEventListener("hashchange", onHash);
    }, []);
    useEffect(() => {
        // The page title says where the viewer is (and screen readers announce it).
        document.title = route.page === "environment" ? `${route.name} · Catalyst` : "Environments · Catalyst";
    }, [route]);
    if (session === null) return <p class="loading">Loading…</p>;
    if (session === undefined) {
        return <SignIn onSignedIn={(s) => {
            useSession(s);
            history.replaceState(null, "", "/");
            setSession(s);
        }} />;
    }
    const signOut = async () => {
        await call("DELETE", "/session");
        useSession(undefined);
        location.assign("/sign-in");
    };
    return (
        <>
            <a class="skip" href="#main">Skip to content</a>
            <header class="top">
                <a class="brand" href="#/">Catalyst Environments</a>
                <span class="who">Signed in as <strong data-testid="user">{session.user}</strong></span>
                <button type="button" class="secondary" onClick={signOut}>Sign out</button>
            </header>
            <main id="main" tabIndex={-1}>
                {route.page === "list" ? <ListPage /> : <EnvironmentPage name={route.name} user={session.user} />}
            </main>
        </>
    );
}

const root = document.getElementById("app");
if (root !== null) {
    root.textContent = "";
    render(<App />, root);
}
