import { buildApi, type VantageApi } from '../../shared/client.ts';
import { WebSocketClient, type ConnectionState } from './ws-client.ts';
import { useAppStore } from './store.ts';

declare global {
  interface Window {
    /** Exposed by the preload in Electron; absent in a browser. */
    vantage?: VantageApi & { transport?: 'electron' };
  }
}

let api: VantageApi | null = null;
let transport: 'electron' | 'websocket' = 'websocket';

function setConnection(state: ConnectionState): void {
  useAppStore.getState().setConnection(state);
}

/**
 * The engine API. In Electron it is the preload's `window.vantage`; in a browser (`vantage serve`)
 * a WebSocket client with the same shape. Nothing else in the renderer can tell which.
 */
export function getApi(): VantageApi {
  if (api) return api;
  if (window.vantage) {
    api = window.vantage;
    transport = 'electron';
    setConnection('open');
  } else {
    const token = new URLSearchParams(window.location.search).get('token') ?? '';
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${window.location.host}/ws?token=${encodeURIComponent(token)}`;
    api = buildApi(new WebSocketClient(url, setConnection));
    transport = 'websocket';
  }
  return api;
}

export function getTransport(): 'electron' | 'websocket' {
  return transport;
}

export function useApi(): VantageApi {
  return getApi();
}
