import { useEffect, useState } from 'react';
import { getApi } from '../../api.ts';
import type { ConnectedVenue } from '../../../../shared/contract/venues.ts';

const SYMBOL_PATTERN = /^[A-Za-z0-9._-]+\/[A-Za-z0-9._:-]+$/;

/** Parses "BTC/USDT, eth/usdt" into unique upper-case unified symbols; an error names the bad ones. */
export function parseSymbols(text: string): { symbols: string[]; error: string | null } {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s.length > 0);
  const bad = parts.filter((s) => !SYMBOL_PATTERN.test(s));
  if (parts.length === 0) return { symbols: [], error: 'Enter at least one symbol, e.g. BTC/USDT.' };
  if (bad.length > 0) return { symbols: [], error: `Not a BASE/QUOTE symbol: ${bad.join(', ')}` };
  if (parts.length > 20) return { symbols: [], error: 'At most 20 symbols per venue.' };
  return { symbols: [...new Set(parts)], error: null };
}

/**
 * Live venues beside the demo venue: connect a ccxt venue's public market data (no API keys
 * needed), see each venue's state, disconnect. The engine checks every symbol against the
 * venue's markets and remembers the connection for the next start.
 */
export function VenuesSection() {
  const [venues, setVenues] = useState<ConnectedVenue[]>([]);
  const [available, setAvailable] = useState<string[]>([]);
  const [isOpen, setOpen] = useState(false);
  const [venue, setVenue] = useState('binance');
  const [symbolsText, setSymbolsText] = useState('BTC/USDT');
  const [transport, setTransport] = useState<'auto' | 'websocket' | 'rest'>('auto');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  useEffect(() => {
    const api = getApi();
    void api.venues.list({}).then((r) => {
      if (!r.ok) return;
      setVenues(r.value.venues);
      setAvailable(r.value.available);
    });
    return api.on('venues:changed', (payload) => setVenues(payload.venues));
  }, []);

  const connect = async () => {
    const parsed = parseSymbols(symbolsText);
    if (parsed.error) {
      setError(parsed.error);
      return;
    }
    setBusy(true);
    setError(null);
    const reply = await getApi().venues.connect({
      venue: venue.trim().toLowerCase(),
      symbols: parsed.symbols,
      transport,
    });
    setBusy(false);
    if (reply.ok) setOpen(false);
    else setError(reply.error.message);
  };

  const live = venues.filter((v) => v.kind === 'ccxt');
  return (
    <div className="venues" data-testid="venues">
      <div className="row">
        <span className="muted">Venues: {venues.map((v) => v.venue).join(', ') || 'none'}</span>
        <button
          type="button"
          data-testid="venue-open"
          onClick={() => setOpen(!isOpen)}
          aria-expanded={isOpen}
        >
          {isOpen ? 'Close' : 'Connect venue…'}
        </button>
      </div>
      {isOpen && (
        <form
          className="row"
          data-testid="venue-form"
          onSubmit={(e) => {
            e.preventDefault();
            void connect();
          }}
        >
          <input
            data-testid="venue-id"
            list="venue-ids"
            value={venue}
            onChange={(e) => setVenue(e.target.value)}
            placeholder="ccxt id, e.g. binance"
            aria-label="venue"
            size={10}
          />
          <datalist id="venue-ids">
            {available.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
          <input
            data-testid="venue-symbols"
            value={symbolsText}
            onChange={(e) => setSymbolsText(e.target.value)}
            placeholder="BTC/USDT, ETH/USDT"
            aria-label="symbols"
            size={18}
          />
          <select
            data-testid="venue-transport"
            value={transport}
            onChange={(e) => setTransport(e.target.value as typeof transport)}
            aria-label="transport"
          >
            <option value="auto">auto</option>
            <option value="websocket">websocket</option>
            <option value="rest">REST polling</option>
          </select>
          <button type="submit" data-testid="venue-connect" disabled={isBusy}>
            {isBusy ? 'Connecting…' : 'Connect'}
          </button>
        </form>
      )}
      {error && (
        <p className="bad" data-testid="venue-error">
          {error}
        </p>
      )}
      {live.length > 0 && (
        <table className="grid" data-testid="venue-list">
          <tbody>
            {live.map((v) => (
              <tr key={v.venue} data-testid={`venue-row-${v.venue}`}>
                <td>{v.venue}</td>
                <td className="muted">{v.symbols.join(', ')}</td>
                <td className="muted">{v.transport ?? '–'}</td>
                <td>
                  <span
                    className={`pill ${v.state === 'live' ? 'good' : v.state === 'failed' || v.state === 'stale' ? 'bad' : 'warn'}`}
                    data-testid={`venue-state-${v.venue}`}
                    title={v.error ?? ''}
                  >
                    {v.state}
                  </span>
                  {v.error && <span className="bad"> {v.error}</span>}
                </td>
                <td>
                  <button
                    type="button"
                    data-testid={`venue-disconnect-${v.venue}`}
                    onClick={() => void getApi().venues.disconnect({ venue: v.venue })}
                  >
                    Disconnect
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
