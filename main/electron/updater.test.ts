import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { UpdateController, type AutoUpdaterLike, type UpdateNotice } from './updater.ts';

class FakeAutoUpdater extends EventEmitter implements AutoUpdaterLike {
  autoDownload = false;
  autoInstallOnAppQuit = true;
  checks = 0;
  installs = 0;
  failCheck: Error | null = null;
  async checkForUpdates(): Promise<unknown> {
    this.checks++;
    if (this.failCheck) throw this.failCheck;
    return null;
  }
  quitAndInstall(): void {
    this.installs++;
  }
}

function setup(hasWorkingOrders: () => Promise<boolean>) {
  const updater = new FakeAutoUpdater();
  const notices: UpdateNotice[] = [];
  const controller = new UpdateController({ updater, hasWorkingOrders, notify: (n) => notices.push(n) });
  return { updater, notices, controller };
}

describe('UpdateController', () => {
  it('checks on start, downloads in the background and never installs on quit by itself', async () => {
    const { updater, notices, controller } = setup(async () => false);
    expect(updater.autoDownload).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(false);
    await controller.check();
    expect(updater.checks).toBe(1);
    updater.emit('update-available', { version: '0.2.0' });
    updater.emit('update-downloaded', { version: '0.2.0' });
    expect(notices.map((n) => n.kind)).toEqual(['available', 'ready']);
    expect(updater.installs).toBe(0);
  });

  it('never installs while orders are working', async () => {
    let isWorking = true;
    const { updater, notices, controller } = setup(async () => isWorking);
    updater.emit('update-downloaded', { version: '0.2.0' });
    const refused = await controller.installNow();
    expect(refused.isInstalling).toBe(false);
    expect(refused.reason).toMatch(/orders are working/);
    expect(notices.at(-1)?.kind).toBe('install-deferred');
    expect(updater.installs).toBe(0);
    isWorking = false;
    expect(await controller.installNow()).toEqual({ isInstalling: true });
    expect(updater.installs).toBe(1);
  });

  it('treats unknown order state as working (fails closed)', async () => {
    const { updater, controller } = setup(async () => {
      throw new Error('engine down');
    });
    updater.emit('update-downloaded', { version: '0.2.0' });
    expect((await controller.installNow()).isInstalling).toBe(false);
    expect(updater.installs).toBe(0);
  });

  it('reports a failed check instead of throwing', async () => {
    const { updater, notices, controller } = setup(async () => false);
    updater.failCheck = new Error('net::ERR_NAME_NOT_RESOLVED');
    await controller.check();
    expect(notices).toEqual([{ kind: 'error', message: 'Update check failed: net::ERR_NAME_NOT_RESOLVED' }]);
    expect(await controller.installNow()).toEqual({
      isInstalling: false,
      reason: 'No update has been downloaded.',
    });
  });
});
