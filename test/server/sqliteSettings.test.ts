// The embedded store's page cache and memory-mapped reads as configured: BATCHFLOW_SQLITE_CACHE_MIB and
// BATCHFLOW_SQLITE_MMAP_MIB are whole MiB within bounds (else a ConfigError naming the variable), and reach
// the connection's pragmas.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { sqliteSettings } from '../../src/server.js';
import { applyPragmas } from '../../src/store/sqlite.js';

const pragmasOf = (env: Record<string, string>) => {
  const raw = new Database(':memory:');
  try {
    applyPragmas(raw, sqliteSettings(loadConfig({}, env)));
    return { cache: raw.pragma('cache_size', { simple: true }), sync: raw.pragma('synchronous', { simple: true }) };
  } finally {
    raw.close();
  }
};

describe('SQLite connection settings', () => {
  it('default to a 2 MiB page cache, no memory map, synchronous NORMAL', () => {
    expect(pragmasOf({})).toEqual({ cache: -2048, sync: 1 });
    expect(sqliteSettings(loadConfig({}, {})).mmapSizeBytes).toBe(0);
  });

  it('take the page cache and the memory map in MiB', () => {
    // A :memory: database has no memory map (the next test maps a file).
    expect(pragmasOf({ BATCHFLOW_SQLITE_CACHE_MIB: '64', BATCHFLOW_SQLITE_SYNCHRONOUS: 'FULL' })).toMatchObject({ cache: -65536, sync: 2 });
    expect(sqliteSettings(loadConfig({}, { BATCHFLOW_SQLITE_MMAP_MIB: '4096' }))).toMatchObject({ mmapSizeBytes: 4096 * 1024 * 1024, cacheSizeKiB: 2048 });
  });

  it('applies the memory map to a file', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'bf-sqlite-settings-'));
    const raw = new Database(path.join(dir, 's.sqlite'));
    try {
      applyPragmas(raw, sqliteSettings(loadConfig({}, { BATCHFLOW_SQLITE_MMAP_MIB: '16' })));
      expect(raw.pragma('mmap_size', { simple: true })).toBe(16 * 1024 * 1024);
    } finally {
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['BATCHFLOW_SQLITE_CACHE_MIB', '0', 'must be between 1 and 65536, got 0'],
    ['BATCHFLOW_SQLITE_CACHE_MIB', 'lots', 'must be an integer, got "lots"'],
    ['BATCHFLOW_SQLITE_MMAP_MIB', '-1', 'must be between 0 and 1048576, got -1'],
  ])('refuses %s=%j', (name, raw, message) => {
    expect(() => loadConfig({}, { [name]: raw })).toThrow(ConfigError);
    expect(() => loadConfig({}, { [name]: raw })).toThrow(`${name} ${message}`);
  });
});
