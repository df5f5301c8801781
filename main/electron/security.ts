/**
 * The window's security settings and guards. Everything here works on small structural
 * interfaces (implemented over the real Electron objects in index.ts) so it is unit-tested
 * without the Electron binary.
 */

/** Same policy as renderer/index.html's meta tag and `vantage serve`'s header (a test keeps them equal). */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** webPreferences for the app window. Why each one: docs/electron.md (Security). */
export function secureWebPreferences(preloadPath: string): {
  preload: string;
  sandbox: true;
  contextIsolation: true;
  webSecurity: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webviewTag: false;
  allowRunningInsecureContent: false;
  experimentalFeatures: false;
  spellcheck: false;
} {
  return {
    preload: preloadPath,
    sandbox: true,
    contextIsolation: true,
    webSecurity: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    spellcheck: false,
  };
}

/**
 * Where the app's own page lives: the built renderer's index.html (file://) in production, or
 * the electron-vite dev server in development.
 */
export type AppLocation = { kind: 'file'; fileUrl: string } | { kind: 'dev-server'; origin: string };

export function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** True only for the app's own page (query and hash ignored). */
export function isAppUrl(raw: string, location: AppLocation): boolean {
  const url = parseUrl(raw);
  if (!url) return false;
  if (location.kind === 'file') {
    const own = parseUrl(location.fileUrl);
    return own !== null && url.protocol === 'file:' && url.host === own.host && url.pathname === own.pathname;
  }
  const own = parseUrl(location.origin);
  return own !== null && (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === own.origin;
}

/** Only https links leave the app (opened by the OS browser); everything else is refused. */
export function externalUrlToOpen(raw: string): string | null {
  const url = parseUrl(raw);
  if (!url || url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '')
    return null;
  return url.href;
}

export interface NavigationEvent {
  url: string;
  preventDefault(): void;
}

/** What the guards need from a WebContents. */
export interface GuardedContents {
  readonly id: number;
  onWillNavigate(listener: (event: NavigationEvent) => void): void;
  onWillRedirect(listener: (event: NavigationEvent) => void): void;
  onWillFrameNavigate(listener: (event: NavigationEvent) => void): void;
  onWillAttachWebview(listener: (event: { preventDefault(): void }) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface GuardOptions {
  location: AppLocation;
  openExternal(url: string): Promise<void>;
  /** Refused navigations and links, for the log (never the full URL of a secret-bearing link: hosts only). */
  onRefused?(what: {
    kind: 'navigation' | 'redirect' | 'window-open' | 'webview' | 'external-link';
    url: string;
  }): void;
}

function describeForLog(raw: string): string {
  const url = parseUrl(raw);
  return url ? `${url.protocol}//${url.host}` : '(unparsable)';
}

/**
 * Navigation and window guards for any WebContents (the app window and anything created later,
 * via app 'web-contents-created'): the page may only reload itself; window.open is always
 * denied, https links go to the OS browser; webviews are never attached.
 */
export function guardContents(contents: GuardedContents, options: GuardOptions): void {
  const openIfHttps = (raw: string): void => {
    const external = externalUrlToOpen(raw);
    if (external) {
      void options.openExternal(external).catch(() => undefined);
    } else {
      options.onRefused?.({ kind: 'external-link', url: describeForLog(raw) });
    }
  };
  contents.onWillNavigate((event) => {
    if (isAppUrl(event.url, options.location)) return;
    event.preventDefault();
    options.onRefused?.({ kind: 'navigation', url: describeForLog(event.url) });
    // A plain <a href="https://..."> click: the user meant to open the link, so hand it to the browser.
    openIfHttps(event.url);
  });
  contents.onWillFrameNavigate((event) => {
    if (isAppUrl(event.url, options.location)) return;
    event.preventDefault();
    options.onRefused?.({ kind: 'navigation', url: describeForLog(event.url) });
  });
  contents.onWillRedirect((event) => {
    if (isAppUrl(event.url, options.location)) return;
    event.preventDefault();
    options.onRefused?.({ kind: 'redirect', url: describeForLog(event.url) });
  });
  contents.onWillAttachWebview((event) => {
    event.preventDefault();
    options.onRefused?.({ kind: 'webview', url: '' });
  });
  contents.setWindowOpenHandler((details) => {
    options.onRefused?.({ kind: 'window-open', url: describeForLog(details.url) });
    openIfHttps(details.url);
    return { action: 'deny' };
  });
}

export type ResponseHeaders = Record<string, string[] | string>;

/** What the session hardening needs from an Electron Session. */
export interface GuardedSession {
  setPermissionRequestHandler(
    handler: (permission: string, callback: (isGranted: boolean) => void) => void,
  ): void;
  setPermissionCheckHandler(handler: (permission: string) => boolean): void;
  setDevicePermissionHandler(handler: () => boolean): void;
  onHeadersReceived(
    handler: (
      details: { responseHeaders?: ResponseHeaders },
      callback: (response: { responseHeaders: ResponseHeaders }) => void,
    ) => void,
  ): void;
}

/** Response headers with our CSP replacing any the response carried (case-insensitive). */
export function withContentSecurityPolicy(headers: ResponseHeaders | undefined): ResponseHeaders {
  const result: ResponseHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'content-security-policy') continue;
    result[name] = value;
  }
  result['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY];
  return result;
}

/**
 * Denies every permission (camera, microphone, notifications, geolocation, HID, serial, ...):
 * a trading workstation needs none, and an XSS must not be able to ask. Adds the CSP header to
 * every response (the dev server; file:// pages carry the meta tag).
 */
export function hardenSession(session: GuardedSession, onDenied?: (permission: string) => void): void {
  session.setPermissionRequestHandler((permission, callback) => {
    onDenied?.(permission);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
}
