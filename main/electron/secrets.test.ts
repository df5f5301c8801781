import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretStore, SecretStoreError, type SafeStorageLike } from './secrets.ts';

/** A safeStorage stand-in: reversible, but the stored bytes never contain the plain text. */
class FakeSafeStorage implements SafeStorageLike {
  isAvailable = true;
  backend = 'gnome_libsecret';
  isEncryptionAvailable(): boolean {
    return this.isAvailable;
  }
  encryptString(plainText: string): Buffer {
    return Buffer.from(Buffer.from(`v10:${plainText}`, 'utf8').map((b) => b ^ 0x5a));
  }
  decryptString(encrypted: Buffer): string {
    const text = Buffer.from(encrypted.map((b) => b ^ 0x5a)).toString('utf8');
    if (!text.startsWith('v10:')) throw new Error('bad key');
    return text.slice(4);
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

let dir: string;
let filePath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-secrets-'));
  filePath = join(dir, 'userData', 'secrets.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SecretStore', () => {
  it('stores API keys encrypted at rest and reads them back', () => {
    const store = new SecretStore({ filePath, safeStorage: new FakeSafeStorage() });
    store.set('binance:apiKey', 'AKIA-very-secret-123');
    store.set('binance:apiSecret', 's3cr3t/with+chars=');
    const onDisk = readFileSync(filePath, 'utf8');
    expect(onDisk).not.toContain('AKIA-very-secret-123');
    expect(onDisk).not.toContain('s3cr3t');
    expect(statSync(filePath).mode & 0o077).toBe(0);
    const reopened = new SecretStore({ filePath, safeStorage: new FakeSafeStorage() });
    expect(reopened.get('binance:apiKey')).toBe('AKIA-very-secret-123');
    expect(reopened.get('binance:apiSecret')).toBe('s3cr3t/with+chars=');
    expect(reopened.get('kraken:apiKey')).toBeNull();
    expect(reopened.names()).toEqual(['binance:apiKey', 'binance:apiSecret']);
    expect(reopened.delete('binance:apiKey')).toBe(true);
    expect(reopened.delete('binance:apiKey')).toBe(false);
    expect(reopened.names()).toEqual(['binance:apiSecret']);
  });

  it('refuses to store when the OS offers no encryption, with a clear error', () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.isAvailable = false;
    const store = new SecretStore({ filePath, safeStorage });
    expect(() => store.set('binance:apiKey', 'k')).toThrow(SecretStoreError);
    expect(() => store.set('binance:apiKey', 'k')).toThrow(/no encryption for app secrets.*cannot be saved/);
    expect(() => readFileSync(filePath)).toThrow(); // nothing written
  });

  it("refuses Linux's basic_text fallback (a fixed key is no protection)", () => {
    const safeStorage = new FakeSafeStorage();
    safeStorage.backend = 'basic_text';
    const store = new SecretStore({ filePath, safeStorage });
    expect(store.unavailableReason()).toMatch(/basic_text/);
    expect(() => store.set('binance:apiKey', 'k')).toThrow(/keyring/);
  });

  it('says a key must be entered again when it cannot be decrypted (other user or keyring)', () => {
    new SecretStore({ filePath, safeStorage: new FakeSafeStorage() }).set('binance:apiKey', 'k');
    const other = new FakeSafeStorage();
    other.decryptString = () => {
      throw new Error('Error while decrypting the ciphertext');
    };
    expect(() => new SecretStore({ filePath, safeStorage: other }).get('binance:apiKey')).toThrow(
      /cannot be decrypted.*Enter it again/,
    );
  });

  it('rejects bad names and leaves a foreign or corrupt file untouched', () => {
    const store = new SecretStore({ filePath, safeStorage: new FakeSafeStorage() });
    for (const name of ['', '__proto__/x', '../etc', 'a b', 'x'.repeat(200)]) {
      expect(() => store.set(name, 'v')).toThrow(/Secret names/);
    }
    store.set('ok', 'v');
    writeFileSync(filePath, '{ not json');
    expect(() => store.get('ok')).toThrow(/not valid JSON/);
    expect(() => store.set('ok', 'w')).toThrow(/not valid JSON/);
    expect(readFileSync(filePath, 'utf8')).toBe('{ not json');
    writeFileSync(filePath, JSON.stringify({ version: 2, secrets: {} }));
    expect(() => store.names()).toThrow(/not a Vantage secrets file/);
  });

  it('a __proto__ entry in the file cannot pollute anything', () => {
    writeFileSync(
      join(dir, 'p.json'),
      '{"version":1,"secrets":{"__proto__":{"polluted":"yes"},"ok":"dmFsdWU="}}',
    );
    const store = new SecretStore({ filePath: join(dir, 'p.json'), safeStorage: new FakeSafeStorage() });
    expect(store.names()).toEqual(['ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
