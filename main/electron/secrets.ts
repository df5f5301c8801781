import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Electron's safeStorage (OS keychain / DPAPI / libsecret-backed encryption). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means a hard-coded key, i.e. no real protection. */
  getSelectedStorageBackend?(): string;
}

export class SecretStoreError extends Error {
  readonly code:
    'SECRET_STORAGE_UNAVAILABLE' | 'SECRET_NAME_INVALID' | 'SECRET_FILE_INVALID' | 'SECRET_UNREADABLE';
  constructor(code: SecretStoreError['code'], message: string) {
    super(message);
    this.name = 'SecretStoreError';
    this.code = code;
  }
}

interface SecretFile {
  version: 1;
  /** name -> base64 of the safeStorage-encrypted value. Names are not secret; values are. */
  secrets: Record<string, string>;
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,127}$/i;
const MAX_SECRET_CHARS = 16_384;

/**
 * Venue API keys and other secrets, kept in main only and encrypted at rest with safeStorage in a
 * JSON file in userData. Values never go to the engine's logs or the renderer; main hands a key to
 * the engine only when it connects a venue. Refuses to store anything when the OS offers no real
 * encryption, rather than writing a key that any process could read.
 */
export class SecretStore {
  private readonly filePath: string;
  private readonly safeStorage: SafeStorageLike;

  constructor(options: { filePath: string; safeStorage: SafeStorageLike }) {
    this.filePath = options.filePath;
    this.safeStorage = options.safeStorage;
  }

  /** Why secrets cannot be stored on this machine, or null when they can. */
  unavailableReason(): string | null {
    if (!this.safeStorage.isEncryptionAvailable()) {
      return 'The operating system offers no encryption for app secrets (no keychain, DPAPI or secret service). API keys cannot be saved; on Linux install and unlock a Secret Service keyring (GNOME Keyring or KWallet) and restart Vantage.';
    }
    if (this.safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      return 'No keyring is available, so Electron would encrypt secrets with a fixed key (basic_text). API keys cannot be saved; install and unlock a Secret Service keyring (GNOME Keyring or KWallet) and restart Vantage.';
    }
    return null;
  }

  set(name: string, value: string): void {
    checkName(name);
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_SECRET_CHARS) {
      throw new SecretStoreError(
        'SECRET_NAME_INVALID',
        `A secret must be 1..${MAX_SECRET_CHARS} characters.`,
      );
    }
    const reason = this.unavailableReason();
    if (reason) throw new SecretStoreError('SECRET_STORAGE_UNAVAILABLE', reason);
    const file = this.read();
    file.secrets[name] = this.safeStorage.encryptString(value).toString('base64');
    this.write(file);
  }

  get(name: string): string | null {
    checkName(name);
    const encoded = this.read().secrets[name];
    if (encoded === undefined) return null;
    if (!this.safeStorage.isEncryptionAvailable()) {
      throw new SecretStoreError(
        'SECRET_STORAGE_UNAVAILABLE',
        'The OS keyring is not available right now, so saved API keys cannot be decrypted. Unlock it and try again.',
      );
    }
    try {
      return this.safeStorage.decryptString(Buffer.from(encoded, 'base64'));
    } catch {
      throw new SecretStoreError(
        'SECRET_UNREADABLE',
        `The saved secret "${name}" cannot be decrypted (it was saved under another OS user or keyring). Enter it again.`,
      );
    }
  }

  delete(name: string): boolean {
    checkName(name);
    const file = this.read();
    if (!Object.hasOwn(file.secrets, name)) return false;
    delete file.secrets[name];
    this.write(file);
    return true;
  }

  /** Names of the saved secrets (never the values). */
  names(): string[] {
    return Object.keys(this.read().secrets).sort();
  }

  private read(): SecretFile {
    if (!existsSync(this.filePath))
      return { version: 1, secrets: Object.create(null) as Record<string, string> };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.filePath, 'utf8'));
    } catch (err) {
      throw new SecretStoreError(
        'SECRET_FILE_INVALID',
        `${this.filePath} is not valid JSON (${(err as Error).message}); it was left as is. Move it away to start with no saved keys.`,
      );
    }
    const file = parsed as Partial<SecretFile> | null;
    const secrets = file?.secrets;
    if (file?.version !== 1 || typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
      throw new SecretStoreError(
        'SECRET_FILE_INVALID',
        `${this.filePath} is not a Vantage secrets file (version 1); it was left as is.`,
      );
    }
    const clean = Object.create(null) as Record<string, string>;
    for (const [name, value] of Object.entries(secrets)) {
      if (NAME_PATTERN.test(name) && typeof value === 'string') clean[name] = value;
    }
    return { version: 1, secrets: clean };
  }

  private write(file: SecretFile): void {
    mkdirSync(dirname(this.filePath), { recursive: true });
    // Write then rename: a crash mid-write never leaves a truncated file that loses every key.
    const temporary = `${this.filePath}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ version: 1, secrets: { ...file.secrets } }, null, 2)}\n`, {
      mode: 0o600,
    });
    renameSync(temporary, this.filePath);
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new SecretStoreError(
      'SECRET_NAME_INVALID',
      `Secret names are 1..128 letters, digits, '.', '_', ':' or '-' (got ${JSON.stringify(String(name).slice(0, 40))}).`,
    );
  }
}
