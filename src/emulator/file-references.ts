import { readFileSync } from 'node:fs';
import type { FileResolver, WireGenerateRequest } from './model/index.js';
import { partsOf } from './model/wire-request.js';
import type { FileStore } from './file-store.js';
import { fileGone, fileIdOf, GoogleError } from './google-error.js';

/**
 * Resolves a fileData URI (`<any host>/v1beta/files/abc`, as files.get returns it) against the file
 * store: the stored type, and the bytes read only if the token count needs them (PDF pages, text).
 */
export function fileResolver(files: FileStore): FileResolver {
  return (fileUri) => {
    const name = fileNameOf(fileUri);
    const file = name === undefined ? undefined : files.get(name);
    if (!file) return undefined;
    return {
      mimeType: file.mimeType,
      get data(): Uint8Array {
        return readFileSync(file.path);
      },
    };
  };
}

/**
 * Google's refusal of the request's first fileData part the model cannot use, or undefined when
 * every referenced file is usable: 403 for a file that is gone (deleted, expired, never uploaded),
 * 400 FAILED_PRECONDITION for one still PROCESSING or FAILED at emulated time `at` (default now).
 */
export function fileReferenceError(
  request: WireGenerateRequest,
  files: FileStore,
  at?: number,
): GoogleError | undefined {
  for (const part of partsOf(request)) {
    const uri = part.fileData?.fileUri;
    if (uri === undefined) continue;
    const name = fileNameOf(uri);
    const file = name === undefined ? undefined : files.get(name);
    if (!file) return fileGone(name ?? uri);
    // Google's wording, whichever of PROCESSING or FAILED the file is in.
    if (files.stateOf(file, at) !== 'ACTIVE') {
      return new GoogleError(
        'FAILED_PRECONDITION',
        `The File ${fileIdOf(file.name)} is not in an ACTIVE state and usage is not allowed.`,
      );
    }
  }
  return undefined;
}

function fileNameOf(fileUri: string): string | undefined {
  const match = /(?:^|\/)(files\/[^/?#:]+)(?:[?#:].*)?$/.exec(fileUri);
  return match?.[1];
}
