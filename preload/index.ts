// The sandboxed preload (bundled as CommonJS: a sandboxed preload can require only 'electron').
// It exposes the typed engine API as window.vantage and keeps ipcRenderer and the port to itself.
import { contextBridge, ipcRenderer } from 'electron';
import { createExposedApi, type PreloadIpc } from './api.ts';

const ipc: PreloadIpc = {
  on: (channel, listener) =>
    ipcRenderer.on(channel, (event, ...args: unknown[]) => listener({ ports: event.ports }, ...args)),
  send: (channel) => ipcRenderer.send(channel),
};

contextBridge.exposeInMainWorld('vantage', createExposedApi(ipc));
