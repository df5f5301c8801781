/** The part of electron-updater's autoUpdater the app uses. */
export interface AutoUpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'update-available', listener: (info: { version: string }) => void): unknown;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export type UpdateNotice =
  | { kind: 'available'; version: string }
  | { kind: 'ready'; version: string; message: string }
  | { kind: 'install-deferred'; version: string; message: string }
  | { kind: 'error'; message: string };

export interface UpdateControllerOptions {
  updater: AutoUpdaterLike;
  /**
   * The hook the rest of the app provides: true while any order is working at a venue (or when
   * that cannot be known, e.g. the engine is down). An update never installs while it says true.
   */
  hasWorkingOrders(): Promise<boolean>;
  notify(notice: UpdateNotice): void;
}

/**
 * Checks for updates at start and downloads them in the background, but installs only when the
 * user asks and no order is working: a restart in the middle of an order's life would leave it
 * unattended at the venue. Installing on quit is off for the same reason.
 */
export class UpdateController {
  private readonly options: UpdateControllerOptions;
  private downloadedVersion: string | null = null;

  constructor(options: UpdateControllerOptions) {
    this.options = options;
    const { updater } = options;
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = false;
    updater.on('update-available', (info) => options.notify({ kind: 'available', version: info.version }));
    updater.on('update-downloaded', (info) => {
      this.downloadedVersion = info.version;
      options.notify({
        kind: 'ready',
        version: info.version,
        message: `Vantage ${info.version} is ready to install. Install it from the menu when no order is working.`,
      });
    });
    updater.on('error', (error) =>
      options.notify({ kind: 'error', message: `Update check failed: ${error.message}` }),
    );
  }

  get readyVersion(): string | null {
    return this.downloadedVersion;
  }

  /** Checks once (at start). A failure is reported, never thrown: the app works without updates. */
  async check(): Promise<void> {
    try {
      await this.options.updater.checkForUpdates();
    } catch (err) {
      this.options.notify({
        kind: 'error',
        message: `Update check failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }

  /** Installs the downloaded update (quits and restarts), unless an order is working. */
  async installNow(): Promise<{ isInstalling: boolean; reason?: string }> {
    const version = this.downloadedVersion;
    if (!version) return { isInstalling: false, reason: 'No update has been downloaded.' };
    let isBusy: boolean;
    try {
      isBusy = await this.options.hasWorkingOrders();
    } catch {
      isBusy = true; // unknown is not "none": fail closed
    }
    if (isBusy) {
      const message = `Vantage ${version} was not installed: orders are working (or their state is unknown). Cancel them or wait until they are done, then install.`;
      this.options.notify({ kind: 'install-deferred', version, message });
      return { isInstalling: false, reason: message };
    }
    this.options.updater.quitAndInstall(false, true);
    return { isInstalling: true };
  }
}
