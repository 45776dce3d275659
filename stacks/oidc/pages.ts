/**
 * The provider's few HTML pages (sign-in form, device code entry and confirmation, errors):
 * plain, self-contained (no external fonts or scripts), every dynamic value escaped.
 */

export function escapeHtml(value: string): string {
    return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

function page(title: string, body: string): string {
    return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
        `<body style="font-family:sans-serif;max-width:26em;margin:3em auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The sign-in form of an interaction: a password form (users file) and/or a GitHub link. */
export function signInPage(action: string, options: { password: boolean; githubUrl?: string; error?: string; user?: string }): string {
    const parts: string[] = [];
    if (options.error) parts.push(`<p role="alert" style="color:#b00">${escapeHtml(options.error)}</p>`);
    if (options.password) {
        parts.push(`<form method="post" action="${escapeHtml(action)}">` +
            `<p><label>User <input name="user" autocomplete="username" value="${escapeHtml(options.user ?? "")}" autofocus></label></p>` +
            `<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>` +
            `<p><button type="submit">Sign in</button></p></form>`);
    }
    if (options.githubUrl) parts.push(`<p><a href="${escapeHtml(options.githubUrl)}">Sign in with GitHub</a></p>`);
    return page("Sign in to Catalyst", parts.join(""));
}

/** The device flow's code entry page; `form` is the provider's own form element. */
export function deviceCodePage(form: string, error?: string): string {
    const message = error ? `<p role="alert" style="color:#b00">${escapeHtml(error)}</p>` : "";
    return page("Sign in a device", `${message}<p>Enter the code your terminal shows.</p>${form}` +
        `<input type="text" name="user_code" form="op.deviceInputForm" autocomplete="off" autofocus>` +
        `<button type="submit" form="op.deviceInputForm">Continue</button>`);
}

/** The device flow's confirmation page. */
export function deviceConfirmPage(form: string, client: string, userCode: string): string {
    return page("Confirm the device", `<p><strong>${escapeHtml(client)}</strong> asks to sign in with the code <code>${escapeHtml(userCode)}</code>.` +
        ` Continue only if your terminal shows this code.</p>${form}` +
        `<button type="submit" form="op.deviceConfirmForm">Continue</button> ` +
        `<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`);
}

/** Shown when the device is signed in. */
export function deviceDonePage(): string {
    return page("Signed in", "<p>Your terminal is signed in; you can close this window.</p>");
}

/** An error page: the OAuth error code and its description, nothing else. */
export function errorPage(error: string, description?: string): string {
    return page("Sign-in failed", `<p><code>${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : ""}</p>`);
}
