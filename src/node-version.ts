import { WavebatchError } from './errors.js';
import { packageManifest } from './package-manifest.js';

/** The running Node is older than package.json's `engines` (exit 2, as the command's own check). */
export class NodeVersionError extends WavebatchError {
  readonly code = 'NODE_VERSION';
}

/**
 * The "X.Y" a `>=X.Y` engines range asks for when `version` (e.g. "20.20.2") is older, else null.
 * Any other form of range gives null: the check skips what it does not read rather than refuse a
 * Node wrongly. bin/wavebatch.js applies the same rule before anything is loaded (it cannot import
 * TypeScript); this one guards the library, which has no such entry point.
 */
export function olderThanEngines(range: string, version: string): string | null {
  const needed = /^>=\s*(\d+)(?:\.(\d+))?/.exec(range);
  if (!needed) return null;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const neededMajor = Number(needed[1]);
  const neededMinor = Number(needed[2] ?? 0);
  const older = major < neededMajor || (major === neededMajor && minor < neededMinor);
  return older ? `${neededMajor}.${neededMinor}` : null;
}

/**
 * The `engines.node` range of the package.json beside the code; empty when there is none to read
 * (a bundler moved the code away from it): then there is nothing to check against.
 */
export function enginesRange(): string {
  return packageManifest().engines?.node ?? '';
}

let supported = false;

/**
 * Throws NodeVersionError on a Node older than package.json's engines. Called before the SQLite
 * driver opens a database: its binary is built for Node 24, and on Node 20 a program using the
 * library died there of a bare segmentation fault (exit 139, no message). Checked once per process.
 */
export function assertSupportedNode(): void {
  if (supported) return;
  const needed = olderThanEngines(enginesRange(), process.versions.node);
  if (needed !== null) {
    throw new NodeVersionError(
      `wavebatch needs Node.js ${needed} or later; this is Node ${process.version} (${process.execPath}). ` +
        'Install Node 24: see "Set-up" in the README.',
    );
  }
  supported = true;
}
