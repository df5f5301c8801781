import { describe, expect, it, vi } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  externalUrlToOpen,
  guardContents,
  hardenSession,
  isAppUrl,
  secureWebPreferences,
  withContentSecurityPolicy,
  type GuardedSession,
  type ResponseHeaders,
} from './security.ts';
import { CONTENT_SECURITY_POLICY as SERVE_POLICY } from '../server/web-host.ts';
import { FakeContents } from './test-support/fake-electron.ts';

const fileLocation = {
  kind: 'file' as const,
  fileUrl: 'file:///opt/Vantage/resources/app.asar/out/renderer/index.html',
};
const devLocation = { kind: 'dev-server' as const, origin: 'http://localhost:5173' };

function guarded(location: typeof fileLocation | typeof devLocation = fileLocation) {
  const contents = new FakeContents(1);
  const opened: string[] = [];
  const refused: string[] = [];
  guardContents(contents, {
    location,
    openExternal: async (url) => void opened.push(url),
    onRefused: (what) => refused.push(`${what.kind} ${what.url}`),
  });
  return { contents, opened, refused };
}

describe('window security', () => {
  it('window options: sandboxed, isolated, web security on, no node, no webview', () => {
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      sandbox: true,
      contextIsolation: true,
      webSecurity: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('denies window.open and opens https links externally', () => {
    const { contents, opened } = guarded();
    expect(contents.openHandler!({ url: 'https://www.binance.com/en/trade/BTC_USDT' })).toEqual({
      action: 'deny',
    });
    expect(opened).toEqual(['https://www.binance.com/en/trade/BTC_USDT']);
  });

  it('refuses non-https external links', () => {
    const { contents, opened, refused } = guarded();
    for (const url of [
      'http://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'vantage://x',
      'not a url',
      'https://user:pass@example.com/',
      'data:text/html,<script>1</script>',
    ]) {
      expect(contents.openHandler!({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual([]);
    expect(refused.filter((r) => r.startsWith('external-link'))).toHaveLength(8);
    expect(externalUrlToOpen('HTTPS://Example.com/a b')).toBe('https://example.com/a%20b');
  });

  it('denies navigation away from the app page, allows reloading it', () => {
    const { contents, opened } = guarded();
    expect(
      contents.fire(
        contents.navigate,
        'file:///opt/Vantage/resources/app.asar/out/renderer/index.html#/layout',
      ),
    ).toBe(false);
    expect(contents.fire(contents.navigate, 'file:///etc/passwd')).toBe(true);
    expect(
      contents.fire(contents.navigate, 'file:///opt/Vantage/resources/app.asar/out/renderer/other.html'),
    ).toBe(true);
    expect(contents.fire(contents.navigate, 'http://localhost:5173/')).toBe(true);
    expect(contents.fire(contents.frameNavigate, 'https://evil.example/')).toBe(true);
    expect(contents.fire(contents.redirect, 'https://evil.example/')).toBe(true);
    // A plain https link click does not navigate the app; it opens in the browser.
    expect(contents.fire(contents.navigate, 'https://docs.example.com/')).toBe(true);
    expect(opened).toEqual(['https://docs.example.com/']);
  });

  it('in development only the dev server origin counts as the app', () => {
    expect(isAppUrl('http://localhost:5173/index.html?x=1', devLocation)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', devLocation)).toBe(false);
    expect(isAppUrl('file:///opt/Vantage/resources/app.asar/out/renderer/index.html', devLocation)).toBe(
      false,
    );
    expect(isAppUrl('http://localhost:5173/', fileLocation)).toBe(false);
  });

  it('blocks webviews', () => {
    const { contents } = guarded();
    const preventDefault = vi.fn();
    for (const l of contents.attachWebview) l({ preventDefault });
    expect(preventDefault).toHaveBeenCalledTimes(1);
  });

  it('permission requests are denied', () => {
    let request: Parameters<GuardedSession['setPermissionRequestHandler']>[0] | null = null;
    let check: ((p: string) => boolean) | null = null;
    let device: (() => boolean) | null = null;
    let headers: Parameters<GuardedSession['onHeadersReceived']>[0] | null = null;
    const denied: string[] = [];
    hardenSession(
      {
        setPermissionRequestHandler: (h) => void (request = h),
        setPermissionCheckHandler: (h) => void (check = h),
        setDevicePermissionHandler: (h) => void (device = h),
        onHeadersReceived: (h) => void (headers = h),
      },
      (p) => denied.push(p),
    );
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'hid',
      'fullscreen',
    ]) {
      const callback = vi.fn();
      request!(permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(check!(permission)).toBe(false);
    }
    expect(device!()).toBe(false);
    expect(denied).toContain('media');

    let response: { responseHeaders: ResponseHeaders } | null = null;
    headers!(
      { responseHeaders: { 'content-security-policy': ['default-src *'], 'Content-Type': ['text/html'] } },
      (r) => void (response = r),
    );
    expect(response!.responseHeaders).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
  });

  it("uses the same CSP as vantage serve and the page's meta tag", () => {
    expect(CONTENT_SECURITY_POLICY).toBe(SERVE_POLICY);
    expect(CONTENT_SECURITY_POLICY.startsWith("default-src 'self';")).toBe(true);
    expect(withContentSecurityPolicy(undefined)).toEqual({
      'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
    });
  });
});
