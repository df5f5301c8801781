import { useAppStore } from '../store.ts';

/** Engine failures (corrupt store, module failures, lost connection) shown until resolved or dismissed. */
export function ErrorBanner() {
  const banner = useAppStore((s) => s.banner);
  const showBanner = useAppStore((s) => s.showBanner);
  if (!banner) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner">
      <strong>{banner.code}</strong> {banner.message}
      <button type="button" onClick={() => showBanner(null)} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
