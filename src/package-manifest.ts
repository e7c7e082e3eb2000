import { readFileSync } from 'node:fs';

/**
 * The package's package.json, one folder above this module: src/ in a checkout, dist/ in the
 * installed package (dist/ mirrors src/).
 */
const PACKAGE_JSON = new URL('../package.json', import.meta.url);

/** What the code reads of its own package.json. */
export interface PackageManifest {
  version?: string;
  engines?: { node?: string };
}

let manifest: PackageManifest | undefined;

/**
 * The package.json beside the code, read once; empty when there is none to read (a bundler moved
 * the code away from it), so importing the library never fails for want of it.
 */
export function packageManifest(): PackageManifest {
  if (manifest === undefined) {
    try {
      manifest = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as PackageManifest;
    } catch {
      manifest = {};
    }
  }
  return manifest;
}

/** This wavebatch's version, as its package.json says (`unknown` when bundled away from it). */
export const VERSION: string = packageManifest().version ?? 'unknown';
